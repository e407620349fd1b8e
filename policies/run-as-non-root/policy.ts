import type { ContainerRef, Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, WORKLOAD_KINDS, fieldsOf, isUnset, wrongType } from '../../src/engine/index.js';
import type { PodSecurityContext, SecurityContext } from '../../src/engine/index.js';

// The container's setting, else the pod's, in CEL; written out where used: the API server's CEL has no cel.bind.
const USER_CEL = 'container.?securityContext.?runAsUser.orValue(podSpec.?securityContext.?runAsUser.orValue(null))';
const NON_ROOT_CEL = 'container.?securityContext.?runAsNonRoot.orValue(podSpec.?securityContext.?runAsNonRoot.orValue(null))';

/** Where a setting is read from: the container's own securityContext, else the pod's. Written only for a listed violation. */
function settingPath(own: Readonly<SecurityContext>, ref: ContainerRef, podPath: string, field: 'runAsUser' | 'runAsNonRoot'): string {
  return isUnset(own[field]) ? `${podPath}.${field}` : `${ref.path}.securityContext.${field}`;
}

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
  cel: {
    forEach: 'containers',
    validations: [
      {
        expression:
          "(podSpec.?hostUsers.orValue(true) == false && podSpec.?os.?name.orValue('') != 'windows') || " +
          `((${USER_CEL} == null || type(${USER_CEL}) == int) && (${NON_ROOT_CEL} == null || type(${NON_ROOT_CEL}) == bool) && ` +
          `${USER_CEL} != 0 && (${NON_ROOT_CEL} == true || (podSpec.?os.?name.orValue('') != 'windows' && ${USER_CEL} != null && ${USER_CEL} >= 1)))`,
        message: 'a container may run as root: set securityContext.runAsNonRoot: true and a non-zero runAsUser',
      },
    ],
  },
  check(workload) {
    // hostUsers is Linux only; a Windows pod's uid 0 is no less root for a field the API refuses there.
    if ((workload.podSpec as { hostUsers?: unknown }).hostUsers === false && !workload.windows) return [];
    const pod = fieldsOf<PodSecurityContext>(workload.podSpec.securityContext);
    const podPath = `${workload.podSpecPath}.securityContext`;
    const out: Violation[] = [];
    for (const ref of workload.containers) {
      const own = fieldsOf<SecurityContext>(ref.container.securityContext);
      const user = own.runAsUser ?? pod.runAsUser;
      const nonRoot = own.runAsNonRoot ?? pod.runAsNonRoot;
      // A quoted "0" is no uid and "true" no boolean: neither may count as non-root, and the
      // author learns what to write rather than being told to add what seems to be there.
      const badUser = wrongType('runAsUser', user, 'integer');
      const badNonRoot = wrongType('runAsNonRoot', nonRoot, 'boolean');
      if (badUser !== undefined || badNonRoot !== undefined) {
        out.push(
          workload.counting
            ? COUNTED
            : {
                container: ref.name,
                path: settingPath(own, ref, podPath, badUser !== undefined ? 'runAsUser' : 'runAsNonRoot'),
                message: `container "${ref.name}": ${badUser ?? badNonRoot}, so it may run as root: write runAsNonRoot: true and runAsUser as a bare number`,
                remediation: 'securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001   # a number, not quoted',
              },
        );
        continue;
      }
      if (user === 0) {
        out.push(
          workload.counting
            ? COUNTED
            : {
                container: ref.name,
                path: settingPath(own, ref, podPath, 'runAsUser'),
                message: `container "${ref.name}" runs as uid 0 (root): set runAsUser to a non-zero uid`,
                remediation: 'securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001',
              },
        );
        continue;
      }
      // Windows has no numeric uid; only runAsNonRoot makes the kubelet check the user.
      const numericUser = !workload.windows && typeof user === 'number' && user >= 1;
      if (nonRoot === true || numericUser) continue;
      out.push(
        workload.counting
          ? COUNTED
          : {
              container: ref.name,
              path: `${ref.path}.securityContext.runAsNonRoot`,
              message: `container "${ref.name}" may run as root: set securityContext.runAsNonRoot: true`,
            },
      );
    }
    return out;
  },
};

export default policy;
