import type { WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, isRecord } from '../../src/engine/index.js';
import { LONG_RUNNING_KINDS, NOT_LONG_RUNNING_CEL, RUNS_TO_COMPLETION_CEL, withoutProbe } from '../lib/probes.js';

const FIX = 'livenessProbe:\n  httpGet: { path: /healthz, port: 8080 }\n  periodSeconds: 10\n  failureThreshold: 3';

const policy: WorkloadPolicy = {
  id: 'liveness-probe',
  title: 'Long-running containers have a liveness probe',
  why:
    'A process can hang without exiting: a deadlock, an exhausted pool, a stuck event loop. Only a liveness probe ' +
    'lets the kubelet notice and restart it. A startupProbe does not replace it: it stops running once the ' +
    'container has started. Keep the liveness check cheap and local, so a slow dependency does not restart every pod.',
  fix: FIX,
  defaultAction: 'warn',
  kinds: LONG_RUNNING_KINDS,
  target: 'workload',
  cel: {
    forEach: 'containers',
    validations: [
      {
        expression: `${RUNS_TO_COMPLETION_CEL} || ${NOT_LONG_RUNNING_CEL} || type(container.?livenessProbe.orValue(null)) == map`,
        message: 'a long-running container has no livenessProbe: add one so a hung process gets restarted',
      },
    ],
  },
  check(workload) {
    return withoutProbe(workload, 'livenessProbe').map((ref) => {
      if (workload.counting) return COUNTED;
      if (!isRecord(ref.container.startupProbe)) {
        return {
          container: ref.name,
          path: `${ref.path}.livenessProbe`,
          message: `container "${ref.name}" has no livenessProbe: add one so a hung process gets restarted`,
        };
      }
      return {
        container: ref.name,
        path: `${ref.path}.livenessProbe`,
        message: `container "${ref.name}" has only a startupProbe: add a livenessProbe for after startup`,
        remediation: `${FIX}\n# keep the startupProbe: the livenessProbe only starts once it has succeeded`,
      };
    });
  },
};

export default policy;
