import type { Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, WORKLOAD_KINDS, fieldsOf, resourceContainers, wrongType } from '../../src/engine/index.js';
import type { SecurityContext } from '../../src/engine/index.js';

const policy: WorkloadPolicy = {
  id: 'read-only-root-filesystem',
  title: 'Containers have a read-only root filesystem',
  why:
    'An image should be the whole truth about what runs. A writable root filesystem lets an attacker drop tools ' +
    'or change binaries, and lets the service quietly keep state that vanishes on restart. Mount an emptyDir or ' +
    'a volume where the program really must write.',
  fix:
    'securityContext:\n  readOnlyRootFilesystem: true\n' +
    'volumeMounts:          # only where the program must write\n  - { name: tmp, mountPath: /tmp }   # with an emptyDir volume named tmp',
  defaultAction: 'deny',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  cel: {
    forEach: 'containers',
    validations: [
      {
        expression:
          "podSpec.?os.?name.orValue('') == 'windows' || container.?securityContext.?readOnlyRootFilesystem.orValue(false) == true",
        message: 'a container can write its root filesystem: set securityContext.readOnlyRootFilesystem: true',
      },
    ],
  },
  check(workload) {
    // The API rejects readOnlyRootFilesystem on Windows pods.
    if (workload.windows) return [];
    const out: Violation[] = [];
    for (const ref of resourceContainers(workload)) {
      const own = fieldsOf<SecurityContext>(ref.container.securityContext);
      if (own.readOnlyRootFilesystem === true) continue;
      const bad = wrongType('readOnlyRootFilesystem', own.readOnlyRootFilesystem, 'boolean');
      out.push(
        workload.counting
          ? COUNTED
          : {
              container: ref.name,
              path: `${ref.path}.securityContext.readOnlyRootFilesystem`,
              message: `container "${ref.name}"${bad === undefined ? '' : `: ${bad}, so it`} can write its root filesystem: set securityContext.readOnlyRootFilesystem: true`,
            },
      );
    }
    return out;
  },
};

export default policy;
