import type { Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, WORKLOAD_KINDS, fieldsOf, wrongType } from '../../src/engine/index.js';
import type { SecurityContext } from '../../src/engine/index.js';

const policy: WorkloadPolicy = {
  id: 'no-privilege-escalation',
  title: 'Containers cannot gain more privileges than they start with',
  why:
    'Unless allowPrivilegeEscalation is false, a setuid binary in the image can give a process more rights than ' +
    'its parent had, and a privileged container has the rights of the node itself. A service needs neither; ' +
    'turning both off is cheap and closes a common escape route.',
  fix: 'securityContext:\n  allowPrivilegeEscalation: false\n  privileged: false   # or leave it out',
  defaultAction: 'warn',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  cel: {
    forEach: 'containers',
    validations: [
      {
        expression:
          "podSpec.?os.?name.orValue('') == 'windows' || (container.?securityContext.?privileged.orValue(false) == false " +
          '&& container.?securityContext.?allowPrivilegeEscalation.orValue(true) == false)',
        message: 'a container may gain privileges: set securityContext.allowPrivilegeEscalation: false (and privileged: false)',
      },
    ],
  },
  check(workload) {
    // The API rejects both fields on Windows pods.
    if (workload.windows) return [];
    const out: Violation[] = [];
    for (const ref of workload.containers) {
      const own = fieldsOf<SecurityContext>(ref.container.securityContext);
      // privileged: "true" is not false: a wrong type counts as privileged.
      const badPrivileged = wrongType('privileged', own.privileged, 'boolean');
      if (own.privileged === true || badPrivileged !== undefined) {
        // The API refuses allowPrivilegeEscalation: false next to privileged: true, so one finding asks for both.
        out.push(
          workload.counting
            ? COUNTED
            : {
                container: ref.name,
                path: `${ref.path}.securityContext.privileged`,
                message:
                  badPrivileged === undefined
                    ? `container "${ref.name}" runs privileged: set securityContext.privileged: false, allowPrivilegeEscalation: false`
                    : `container "${ref.name}": ${badPrivileged}, so it may run privileged: set securityContext.privileged: false, allowPrivilegeEscalation: false`,
                remediation: 'securityContext:\n  privileged: false\n  allowPrivilegeEscalation: false',
              },
        );
        continue;
      }
      if (own.allowPrivilegeEscalation === false) continue;
      const badEscalation = wrongType('allowPrivilegeEscalation', own.allowPrivilegeEscalation, 'boolean');
      out.push(
        workload.counting
          ? COUNTED
          : {
              container: ref.name,
              path: `${ref.path}.securityContext.allowPrivilegeEscalation`,
              message: `container "${ref.name}"${badEscalation === undefined ? '' : `: ${badEscalation}, so it`} may gain privileges: set securityContext.allowPrivilegeEscalation: false`,
            },
      );
    }
    return out;
  },
};

export default policy;
