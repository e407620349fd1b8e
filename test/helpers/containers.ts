// A container as the API server sends it in an AdmissionReview, with the fields it fills in for
// every container (measured through the e2e kube-apiserver: docs/performance.md). The bench's
// large reviews and the scanner's tests build their pods from it.

export type DefaultedContainer = {
  name: string;
  image: string;
  resources: Record<string, never>;
  terminationMessagePath: string;
  terminationMessagePolicy: string;
  imagePullPolicy: string;
};

/**
 * `image` without a tag by default, as in a manifest that breaks image-tag-pinned: the API server
 * pulls it Always (IfNotPresent for a tagged image it defaulted when created).
 */
export function defaultedContainer(name: string, image = 'app', imagePullPolicy = 'Always'): DefaultedContainer {
  return {
    name,
    image,
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy,
  };
}
