import type { Violation, WorkloadPolicy } from '../src/engine/index.js';
import { WORKLOAD_KINDS } from '../src/engine/index.js';

// OCI digest: algorithm ":" encoded; a real sha256 or sha512 digest is far longer than 32 characters.
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

type ImageProblem = 'missing' | 'bad-digest' | 'untagged' | 'latest';

/** What is wrong with an image reference, or undefined when it is pinned. Allocation-free on the pinned path. */
function imageProblem(image: unknown): ImageProblem | undefined {
  if (typeof image !== 'string' || image.trim() === '') return 'missing';
  const at = image.indexOf('@');
  // A digest pins the image whatever the tag says: `app:latest@sha256:…` runs exactly that digest.
  if (at >= 0) return DIGEST.test(image.slice(at + 1)) ? undefined : 'bad-digest';
  // A colon after the last slash starts the tag; one before it is a registry port (`host:5000/app`).
  const colon = image.lastIndexOf(':');
  if (colon <= image.lastIndexOf('/') || colon === image.length - 1) return 'untagged';
  return image.endsWith(':latest') ? 'latest' : undefined;
}

function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

const MESSAGES: Readonly<Record<ImageProblem, string>> = {
  missing: 'has no image: set image to name:version or name@sha256:digest',
  'bad-digest': 'has a malformed image digest: use name@sha256:<64 hex digits>',
  untagged: 'image has no tag, which means :latest: pin a version or digest',
  latest: 'image uses the :latest tag: pin a version tag or an @sha256 digest',
};

const policy: WorkloadPolicy = {
  id: 'image-tag-pinned',
  title: 'Images are pinned to a version or digest',
  why:
    'An image without a tag, or tagged latest, means different code on every pull: two replicas of one ' +
    'Deployment can run different versions, a rollback returns to nothing known, and nobody can say what is ' +
    'deployed. A version tag names a release; a digest guarantees the exact bytes.',
  fix: 'image: registry.example.com/team/app:1.4.2   # or registry.example.com/team/app@sha256:<digest>',
  defaultAction: 'warn',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  check(workload) {
    const out: Violation[] = [];
    for (const ref of workload.containers) {
      const image = ref.container.image;
      const problem = imageProblem(image);
      if (problem === undefined) continue;
      const violation: Violation = {
        container: ref.name,
        path: `${ref.path}.image`,
        message: `container "${ref.name}" ${MESSAGES[problem]}`,
      };
      if (typeof image === 'string' && problem !== 'missing') {
        const repository = repositoryOf(image.trim());
        violation.remediation = `image: ${JSON.stringify(`${repository}:<version>`)}   # the release you tested, or pin name@sha256:<digest>`;
      }
      out.push(violation);
    }
    return out;
  },
};

export default policy;
