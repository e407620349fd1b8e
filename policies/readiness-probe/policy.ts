import type { WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED } from '../../src/engine/index.js';
import { LONG_RUNNING_KINDS, NOT_LONG_RUNNING_CEL, RUNS_TO_COMPLETION_CEL, servesPorts, withoutProbe } from '../lib/probes.js';

const policy: WorkloadPolicy = {
  id: 'readiness-probe',
  title: 'Long-running containers that serve a port have a readiness probe',
  why:
    'Readiness decides whether a pod gets Service traffic. Without a readiness probe a pod receives traffic the ' +
    'moment its process starts, before it has warmed up, and keeps receiving it while it is overloaded or cut off ' +
    'from what it depends on; rolling updates then replace healthy pods with ones that are not serving yet. It ' +
    'applies to containers that declare ports: a container with none (a load generator, a config reloader) takes ' +
    'no traffic a Service can send it, so it needs no readiness probe (a liveness probe still restarts it when it ' +
    'hangs). Declare the ports a container serves. Jobs and init containers run to completion and need none.',
  fix:
    'ports:\n  - { name: http, containerPort: 8080 }\n' +
    'readinessProbe:\n  httpGet: { path: /ready, port: http }\n  periodSeconds: 5\n  failureThreshold: 3',
  defaultAction: 'warn',
  kinds: LONG_RUNNING_KINDS,
  target: 'workload',
  cel: {
    forEach: 'containers',
    validations: [
      {
        expression:
          `${RUNS_TO_COMPLETION_CEL} || ${NOT_LONG_RUNNING_CEL} || type(container.?ports.orValue(null)) != list || ` +
          'size(container.ports) == 0 || type(container.?readinessProbe.orValue(null)) == map',
        message: 'a container that serves a port has no readinessProbe: add one so it gets traffic once ready',
      },
    ],
  },
  check(workload) {
    return withoutProbe(workload, 'readinessProbe')
      .filter((ref) => servesPorts(ref.container))
      .map((ref) =>
        workload.counting
          ? COUNTED
          : {
              container: ref.name,
              path: `${ref.path}.readinessProbe`,
              message: `container "${ref.name}" has no readinessProbe: add one so it gets traffic once ready`,
            },
      );
  },
};

export default policy;
