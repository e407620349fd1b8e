import type { Violation, WorkloadPolicy } from '../src/engine/index.js';
import { WORKLOAD_KINDS, isRecord } from '../src/engine/index.js';

const policy: WorkloadPolicy = {
  id: 'run-as-non-root',
  title: 'Containers run as a non-root user',
  why:
    'A process running as root inside a container is one kernel or runtime bug away from root on the node. ' +
    'Running as an unprivileged user limits what a compromised or buggy service can do. A pod with hostUsers: false ' +
    'runs in a user namespace, where uid 0 maps to an unprivileged uid on the node: it passes, as it does under Pod ' +
    'Security Admission from Kubernetes 1.35. A non-zero numeric runAsUser passes without runAsNonRoot: the kubelet ' +
    'runs the process as that uid whatever the image says, so it cannot be root (Pod Security Admission restricted ' +
    'still asks for runAsNonRoot: true there).',
  fix: 'securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001   # any non-zero uid the image can run as',
  defaultAction: 'deny',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  check(workload) {
    // hostUsers is Linux only; a Windows pod's uid 0 is no less root for a field the API refuses there.
    if ((workload.podSpec as { hostUsers?: unknown }).hostUsers === false && !workload.windows) return [];
    const pod = isRecord(workload.podSpec.securityContext) ? workload.podSpec.securityContext : {};
    const podPath = `${workload.podSpecPath}.securityContext`;
    const out: Violation[] = [];
    for (const ref of workload.containers) {
      const own = isRecord(ref.container.securityContext) ? ref.container.securityContext : {};
      const ownPath = `${ref.path}.securityContext`;
      const user = own.runAsUser ?? pod.runAsUser;
      const userPath = own.runAsUser !== undefined ? `${ownPath}.runAsUser` : `${podPath}.runAsUser`;
      const nonRoot = own.runAsNonRoot ?? pod.runAsNonRoot;
      if (user === 0) {
        out.push({
          container: ref.name,
          path: userPath,
          message: `container "${ref.name}" runs as uid 0 (root): set runAsUser to a non-zero uid`,
          remediation: 'securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001',
        });
        continue;
      }
      // Windows has no numeric uid; only runAsNonRoot makes the kubelet check the user.
      const numericUser = !workload.windows && typeof user === 'number' && user >= 1;
      if (nonRoot === true || numericUser) continue;
      out.push({
        container: ref.name,
        path: `${ownPath}.runAsNonRoot`,
        message: `container "${ref.name}" may run as root: set securityContext.runAsNonRoot: true`,
      });
    }
    return out;
  },
};

export default policy;
