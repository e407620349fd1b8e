import type { Violation, WorkloadPolicy } from '../../src/engine/index.js';
import { COUNTED, WORKLOAD_KINDS } from '../../src/engine/index.js';

// OCI digest: algorithm ":" encoded; a real sha256 or sha512 digest is far longer than 32 characters.
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

type ImageProblem = 'missing' | 'bad-digest' | 'untagged' | 'latest' | 'floating';

/**
 * A tag names a version when it has a digit in it: `1.4.2`, `v2`, `20`, `7-alpine`, `2024.06.1`.
 * One made of words only (`alpine`, `stable`, `mainline`, `lts`, `bookworm-slim`) is a
 * channel the publisher moves to each new release, as latest is.
 */
function namesVersion(image: string, from: number): boolean {
  for (let i = from; i < image.length; i++) {
    const c = image.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/** What is wrong with an image reference, or undefined when it is pinned. Allocation-free on the pinned path. */
function imageProblem(image: unknown): ImageProblem | undefined {
  if (typeof image !== 'string' || image.trim() === '') return 'missing';
  const at = image.indexOf('@');
  // A digest pins the image whatever the tag says: `app:latest@sha256:…` runs exactly that digest.
  if (at >= 0) return DIGEST.test(image.slice(at + 1)) ? undefined : 'bad-digest';
  // A colon after the last slash starts the tag; one before it is a registry port (`host:5000/app`).
  const colon = image.lastIndexOf(':');
  if (colon <= image.lastIndexOf('/') || colon === image.length - 1) return 'untagged';
  if (image.endsWith(':latest')) return 'latest';
  return namesVersion(image, colon + 1) ? undefined : 'floating';
}

function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

const MESSAGES: Readonly<Record<Exclude<ImageProblem, 'floating'>, string>> = {
  missing: 'has no image: set image to name:version or name@sha256:digest',
  'bad-digest': 'has a malformed image digest: use name@sha256:<64 hex digits>',
  untagged: 'image has no tag, which means :latest: pin a version or digest',
  latest: 'image uses the :latest tag: pin a version tag or an @sha256 digest',
};

function message(name: string, image: unknown, problem: ImageProblem): string {
  if (problem !== 'floating') return `container "${name}" ${MESSAGES[problem]}`;
  const tag = String(image).slice(String(image).lastIndexOf(':') + 1);
  return `container "${name}" tag ${JSON.stringify(tag)} has no version number: pin a version or digest`;
}

const policy: WorkloadPolicy = {
  id: 'image-tag-pinned',
  title: 'Images are pinned to a version or digest',
  why:
    'An image without a tag, or tagged latest, means different code on every pull: two replicas of one ' +
    'Deployment can run different versions, a rollback returns to nothing known, and nobody can say what is ' +
    'deployed. A tag without a version number in it (alpine, stable, mainline, lts, bookworm) is the same: ' +
    'a channel that moves to each new release. A tag counts as pinned when it has a digit in it (1.4.2, v2, ' +
    '7-alpine); a major-only tag such as node:20 counts too, although it still moves between minor releases. ' +
    'A version tag names a release; only a digest guarantees the exact bytes.',
  fix: 'image: registry.example.com/team/app:1.4.2   # or registry.example.com/team/app@sha256:<digest>',
  defaultAction: 'warn',
  kinds: WORKLOAD_KINDS,
  target: 'workload',
  cel: {
    forEach: 'containers',
    validations: [
      {
        // container.image written out: the API server's CEL has no cel.bind.
        expression:
          "type(container.?image.orValue(null)) == string && container.image.trim() != '' && (container.image.contains('@') ? " +
          `container.image.substring(container.image.indexOf('@') + 1).matches('${DIGEST.source}') : ` +
          "container.image.lastIndexOf(':') > container.image.lastIndexOf('/') && !container.image.endsWith(':') && " +
          "!container.image.endsWith(':latest') && container.image.substring(container.image.lastIndexOf(':') + 1).matches('[0-9]'))",
        message: 'an image is not pinned (no tag, :latest, or a tag without a version number): pin a version tag or an @sha256 digest',
      },
    ],
  },
  check(workload) {
    const out: Violation[] = [];
    // Containers of one pod mostly share their images: each image's remediation is written once.
    const remedies = new Map<string, string>();
    for (const ref of workload.containers) {
      const image = ref.container.image;
      const problem = imageProblem(image);
      if (problem === undefined) continue;
      if (workload.counting) {
        out.push(COUNTED);
        continue;
      }
      const violation: Violation = {
        container: ref.name,
        path: `${ref.path}.image`,
        message: message(ref.name, image, problem),
      };
      if (typeof image === 'string' && problem !== 'missing') {
        let remedy = remedies.get(image);
        if (remedy === undefined) {
          remedy = `image: ${JSON.stringify(`${repositoryOf(image.trim())}:<version>`)}   # the release you tested, or pin name@sha256:<digest>`;
          remedies.set(image, remedy);
        }
        violation.remediation = remedy;
      }
      out.push(violation);
    }
    return out;
  },
};

export default policy;
