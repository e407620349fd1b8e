// The fast path's positions (fast-positions.ts) against the ones `yaml` gives (locate.ts's
// reference walk), for every field of every object, and for a missing field under each: the
// two must not drift, whatever the YAML looks like.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { stringify } from 'yaml';
import { corpus } from '../../bench/corpus.js';
import { Locator, parseSourceFast, parseSourceWithYaml, pathSegments } from '../../src/audit/index.js';
import { fastLocate } from '../../src/audit/fast-positions.js';

/** Every path in a value: each key and item, and a missing key under each mapping. */
function paths(value: unknown, prefix: string, out: string[]): string[] {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, `${prefix}[${i}]`, out);
    out.push(`${prefix}[${value.length}]`);
  } else if (typeof value === 'object' && value !== null) {
    const dot = prefix === '' ? '' : '.';
    for (const [k, v] of Object.entries(value)) paths(v, `${prefix}${dot}${k}`, out);
    out.push(`${prefix}${dot}notThere.below`);
  }
  return out;
}

/** Compares the two on one text; returns how many positions were compared (0 when the fast path declined it). */
function compare(t: Test, source: string, text: string): number {
  const fast = parseSourceFast({ source, text });
  if (!fast) return 0;
  const reference = parseSourceWithYaml({ source, text });
  const locator = new Locator([{ source, text }]);
  t.equal(fast.objects.length, reference.objects.length, `${source}: same objects`);
  let compared = 0;
  let wrong = 0;
  fast.objects.forEach((item, i) => {
    const ref = reference.objects[i]!;
    for (const path of paths(item.object, '', [])) {
      const got = fastLocate(item.object, pathSegments(path));
      const want = locator.locate(ref, path);
      compared++;
      if (got?.line !== want?.line || got?.column !== want?.column) {
        wrong++;
        if (wrong <= 3) t.fail(`${source}: ${path || '(object)'} at ${JSON.stringify(got)}, yaml says ${JSON.stringify(want)}`);
      }
    }
  });
  if (wrong === 0) t.pass(`${source}: ${compared} positions as yaml gives them`);
  return compared;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

t.test("the repository's examples and policy fixtures", async (t) => {
  const files = [...yamlFiles('examples'), ...yamlFiles('policies')];
  t.ok(files.length >= 20, 'the corpus is there');
  let fastFiles = 0;
  for (const file of files) if (compare(t, file, readFileSync(file, 'utf8')) > 0) fastFiles++;
  t.ok(fastFiles >= files.length / 2, `most are read by the fast path (${fastFiles} of ${files.length})`);
});

t.test('the benchmark corpus, as yaml.stringify writes it', async (t) => {
  for (const { file, object } of corpus(60)) t.ok(compare(t, file, stringify(object)) > 0, `${file}: read by the fast path`);
});

const POD = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n';

// Layouts people write by hand: every one is read by the fast path and compared.
const TRICKY: Record<string, string> = {
  'flow mappings and sequences': `${POD}spec: { containers: [ { name: a, image: "x:1", ports: [ {containerPort: 80}, { containerPort: 81 } ] } ] }\n`,
  JSON: '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a","image":"x"}]}}\n',
  'quoted keys and values': `${POD}spec:\n  "containers":\n    - 'name': "a"\n      "image" : 'x:1'\n      "security Context": {}\n`,
  'space before the colon': `${POD}spec :\n  containers  :\n    - name : a\n      image:   x\n`,
  'multi-line plain and quoted scalars': `${POD}  annotations:\n    a: one\n      two\n    b: "one\n      two"\n    c: 'x\n\n      y'\nspec:\n  containers:\n  - name: a\n    image: x\n`,
  'block scalars': `${POD}  annotations:\n    a: |\n      line: one\n      - two\n    b: >-\n      folded\n      text\n    c: x\nspec:\n  containers:\n  - name: a\n    args:\n    - |\n      script: here\n    - y\n`,
  'comments everywhere': `# top\n${POD}  # between\nspec: # after a key\n  # before a sequence\n  containers:\n    # before an item\n    - name: a # after a value\n      image: x\n`,
  'sequences at the indent of their key, nested sequences': `${POD}spec:\n  containers:\n  - name: a\n    command:\n    - - nested\n      - deeper\n    - [flow, seq]\n    args: []\n    env: [{name: A, value: "1"}]\n`,
  'empty and null values': `${POD}  labels:\nspec:\n  containers:\n  - name: a\n    image:\n    securityContext: {}\n    resources: ~\n`,
  'keys that are numbers, booleans, dotted names': `${POD}  annotations:\n    practice-gate.io/exempt: x\n    1: one\n    true: yes\n    0x10: hex\n    a.b.c: d\nspec:\n  containers: [{name: a}]\n`,
  'multi-byte characters before a field': `${POD}  annotations:\n    note: "😀 ünïcode 中文"\n    😀: emoji key\nspec:\n  containers:\n  - name: "é"\n    image: x\n`,
  'documents, empty documents and markers': `---\n${POD}---\n---\n# only a comment\n--- \napiVersion: v1\nkind: Service\nmetadata: {name: s}\n...\n---\n${POD}`,
  'List and typed List': `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n-   apiVersion: v1\n    kind: Pod\n    metadata:\n      name: b\n---\napiVersion: apps/v1\nkind: DeploymentList\nitems:\n  - metadata: {name: d}\n    spec: {template: {spec: {containers: [{name: c}]}}}\n`,
  'a flow pair in a sequence': `${POD}spec:\n  containers: [name: a, {name: b}]\n`,
  'a flow mapping over several lines': `{apiVersion: v1, kind: Pod,\n  metadata: {name: p},\n  spec: {\n    containers: [\n      {name: a,\n       image: x}]}}\n`,
};

t.test('hand-written layouts', async (t) => {
  for (const [name, text] of Object.entries(TRICKY)) t.ok(compare(t, name, text) > 0, `${name}: read by the fast path`);
});
