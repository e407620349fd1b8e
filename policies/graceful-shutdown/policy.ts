import type { Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, longRunningContainers } from '../../src/engine/index.js';
import { LONG_RUNNING_KINDS, runsToCompletion, servesPorts } from '../lib/probes.js';
import { preStopPause } from './pause.js';

/** The API default of terminationGracePeriodSeconds. */
const DEFAULT_GRACE = 30;
/**
 * Below this a pod cannot both wait out endpoint propagation (the usual preStop pause is 5 s)
 * and finish what it is doing after SIGTERM (a few seconds more for the slowest request).
 */
const MIN_GRACE = 10;
/** The pause that covers endpoint propagation in most clusters (kube-proxy, ingress controllers). */
const PAUSE = 5;

const FIX =
  'spec:\n  terminationGracePeriodSeconds: 45   # the pause, then time to drain after SIGTERM\n  containers:\n    - name: app\n' +
  '      lifecycle:\n        preStop:\n          sleep: { seconds: 5 }   # Kubernetes 1.30+; older: exec: { command: [sleep, "5"] }';

const PAUSE_FIX =
  'lifecycle:\n  preStop:\n    sleep: { seconds: 5 }   # Kubernetes 1.30+; older: exec: { command: [sleep, "5"] } in the image';

const policy: WorkloadPolicy = {
  id: 'graceful-shutdown',
  title: 'Pods stop without dropping requests',
  why:
    'A stopping pod gets SIGTERM, then SIGKILL when terminationGracePeriodSeconds (default 30) runs out. Removing it ' +
    'from Service endpoints happens at the same time, not before: kube-proxy on every node and the ingress ' +
    'controllers take a few seconds to stop sending it requests (endpoint propagation), so a server that stops ' +
    'accepting on SIGTERM refuses requests it is still sent. A short preStop pause (the sleep action) keeps it ' +
    'serving until the routes are gone; the grace period must cover that pause and then the drain after SIGTERM: ' +
    'a preStop that lasts the whole grace period leaves the app 2 seconds before SIGKILL, and a grace period under ' +
    `${MIN_GRACE} seconds leaves no room for both.`,
  fix: FIX,
  // Most workloads have no preStop pause yet and the harm is a few failed requests per stopped pod:
  // recorded for the teams to fix, not a warning on nearly every apply (raise it to warn when ready).
  defaultAction: 'audit',
  kinds: LONG_RUNNING_KINDS,
  target: 'workload',
  cel: { notExported: 'not written in CEL yet: it reads the preStop pause out of exec commands and shell scripts (sleep 10, sleep 1m)' },
  check(workload) {
    if (runsToCompletion(workload)) return [];
    const out: Violation[] = [];
    const gracePath = `${workload.podSpecPath}.terminationGracePeriodSeconds`;
    const raw = (workload.podSpec as { terminationGracePeriodSeconds?: unknown }).terminationGracePeriodSeconds;
    let grace = DEFAULT_GRACE;
    if (raw !== undefined && raw !== null) {
      if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) {
        out.push({ path: gracePath, message: 'terminationGracePeriodSeconds is not a whole number of seconds: set it to e.g. 45' });
        grace = NaN;
      } else {
        grace = raw;
        if (grace < MIN_GRACE) {
          out.push({
            path: gracePath,
            message: `terminationGracePeriodSeconds ${grace} is too short to drain: set it to 30 or more`,
          });
        }
      }
    }
    for (const ref of longRunningContainers(workload)) {
      const pause = preStopPause(ref.container);
      if (pause.kind === 'invalid') {
        out.push(
          workload.counting
            ? COUNTED
            : {
                container: ref.name,
                path: `${ref.path}.lifecycle.preStop`,
                message: `container "${ref.name}": preStop is not a hook the API accepts: use sleep: { seconds: ${PAUSE} }`,
                remediation: PAUSE_FIX,
              },
        );
        continue;
      }
      if (pause.kind === 'sleep' && pause.seconds >= grace) {
        const needed = Number.isFinite(pause.seconds) ? Math.ceil(pause.seconds) + DEFAULT_GRACE : undefined;
        out.push(
          workload.counting
            ? COUNTED
            : {
                container: ref.name,
                path: `${ref.path}.lifecycle.preStop`,
                message:
                  needed === undefined
                    ? `container "${ref.name}": preStop never ends: use a preStop sleep of ${PAUSE}s`
                    : `container "${ref.name}": preStop ${pause.seconds}s >= grace ${grace}s: set terminationGracePeriodSeconds: ${needed}`,
                remediation: `terminationGracePeriodSeconds: ${needed ?? PAUSE + DEFAULT_GRACE}   # pod spec: the preStop pause, then ${DEFAULT_GRACE}s to drain`,
              },
        );
        continue;
      }
      const noPause = pause.kind === 'none' || (pause.kind === 'sleep' && pause.seconds === 0);
      if (noPause && ref.list === 'containers' && servesPorts(ref.container)) {
        out.push(
          workload.counting
            ? COUNTED
            : {
                container: ref.name,
                path: `${ref.path}.lifecycle.preStop`,
                message: `container "${ref.name}" is sent requests after SIGTERM: add a preStop sleep of ${PAUSE}s`,
                remediation: PAUSE_FIX,
              },
        );
      }
    }
    return out;
  },
};

export default policy;
