import type { Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, longRunningContainers } from '../../src/engine/index.js';
import { LONG_RUNNING_KINDS, runsToCompletion } from '../lib/probes.js';
import { sameCheck } from './handler.js';

const FIX =
  'livenessProbe:    # is the process alive? local only: no database, no downstream call\n' +
  '  httpGet: { path: /actuator/health/liveness, port: 8080 }\n' +
  'readinessProbe:   # can it serve now? may check what it depends on\n' +
  '  httpGet: { path: /actuator/health/readiness, port: 8080 }';

const policy: WorkloadPolicy = {
  id: 'liveness-not-readiness',
  title: 'Liveness probes do not repeat the readiness check',
  why:
    'A failing readiness probe takes the pod out of Service endpoints until it recovers; a failing liveness probe ' +
    'restarts the container. When both run the same check (same handler and target, whatever the timings) and ' +
    'that check includes a database or another service, an outage of that dependency fails the liveness probe of ' +
    'every replica at once: they all restart, lose their caches and connections, and come back into the same ' +
    'outage, turning a degraded service into a down one. Liveness should only ask whether the process itself is ' +
    'stuck; dependencies belong in readiness (Spring Boot: /actuator/health/liveness and /readiness; Kubernetes ' +
    'itself: /livez and /readyz). The manifest cannot show what an endpoint checks: if yours checks only the ' +
    'process, exempt the workload with that reason.',
  fix: FIX,
  defaultAction: 'warn',
  kinds: LONG_RUNNING_KINDS,
  target: 'workload',
  cel: { notExported: 'not written in CEL yet: comparing two probes resolves named ports and normalises paths and hosts' },
  check(workload) {
    if (runsToCompletion(workload)) return [];
    const out: Violation[] = [];
    for (const ref of longRunningContainers(workload)) {
      if (!sameCheck(ref.container.livenessProbe, ref.container.readinessProbe, ref.container)) continue;
      out.push(
        workload.counting
          ? COUNTED
          : {
              container: ref.name,
              path: `${ref.path}.livenessProbe`,
              message: `container "${ref.name}": liveness is the readiness check: use a local check`,
            },
      );
    }
    return out;
  },
};

export default policy;
