import type { WorkloadPolicy } from '../src/engine/index.js';
import { LONG_RUNNING_KINDS, withoutProbe } from './lib/probes.js';

const policy: WorkloadPolicy = {
  id: 'readiness-probe',
  title: 'Long-running containers have a readiness probe',
  why:
    'Without a readiness probe a pod receives traffic the moment its process starts, before it has warmed up, ' +
    'and keeps receiving it while it is overloaded or cut off from what it depends on. Rolling updates then ' +
    'replace healthy pods with ones that are not serving yet. Jobs and init containers run to completion and need none.',
  fix: 'readinessProbe:\n  httpGet: { path: /ready, port: 8080 }\n  periodSeconds: 5\n  failureThreshold: 3',
  defaultAction: 'warn',
  kinds: LONG_RUNNING_KINDS,
  target: 'workload',
  check(workload) {
    return withoutProbe(workload, 'readinessProbe').map((ref) => ({
      container: ref.name,
      path: `${ref.path}.readinessProbe`,
      message: `container "${ref.name}" has no readinessProbe: add one so it gets traffic once ready`,
    }));
  },
};

export default policy;
