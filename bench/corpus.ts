// Writes the offline-audit corpus: COUNT manifests (default 2,000), one object per file, into
// DIR. A seeded mix of what a repository of a few hundred services holds: 3-container
// Deployments (some ~100 KiB), Pods, StatefulSets, and the Services and PodDisruptionBudgets
// of most Deployments, each practice kept or broken in the ways people break it. Same seed, same files.
// Usage: node dist/bench/corpus.js DIR [COUNT]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { COMPLIANT, NOTHING, bigDeployment, deployment, pdb, pod, service } from './lib/manifests.js';
import type { KubeJson, Practices } from './lib/manifests.js';

/** mulberry32: a tiny seeded generator, so the corpus is the same on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rnd: () => number, choices: ReadonlyArray<readonly [T, number]>): T {
  const total = choices.reduce((s, [, w]) => s + w, 0);
  let x = rnd() * total;
  for (const [value, weight] of choices) {
    x -= weight;
    if (x < 0) return value;
  }
  return choices[choices.length - 1]![0];
}

function practices(rnd: () => number): Practices {
  if (rnd() < 0.35) return COMPLIANT;
  if (rnd() < 0.1) return NOTHING;
  return {
    nonRoot: pick(rnd, [
      ['container', 5],
      ['pod', 2],
      ['uid', 1],
      ['low-uid', 1],
      ['root', 1],
      ['none', 2],
    ] as const),
    readOnlyRoot: rnd() < 0.6,
    requests: pick(rnd, [
      ['both', 6],
      ['limits', 1],
      ['cpu', 1],
      ['none', 2],
    ] as const),
    memoryLimit: rnd() < 0.6,
    probes: pick(rnd, [
      ['both', 6],
      ['readiness', 2],
      ['none', 2],
    ] as const),
    image: pick(rnd, [
      ['pinned', 6],
      ['digest', 1],
      ['latest', 2],
      ['untagged', 1],
    ] as const),
    escalation: pick(rnd, [
      ['denied', 6],
      ['unset', 3],
      ['privileged', 1],
    ] as const),
  };
}

function statefulSet(name: string, ps: Practices[]): KubeJson {
  const d = deployment(name, ps, { containers: 1 });
  const spec = d.spec as KubeJson;
  return { ...d, kind: 'StatefulSet', spec: { ...spec, serviceName: name } };
}

export function corpus(count: number, seed = 7): Array<{ file: string; object: KubeJson }> {
  const rnd = random(seed);
  const out: Array<{ file: string; object: KubeJson }> = [];
  let i = 0;
  const add = (object: KubeJson) =>
    out.push({ file: `${String(out.length).padStart(4, '0')}-${String(object.kind).toLowerCase()}.yaml`, object });
  while (out.length < count) {
    const name = `svc-${i++}`;
    const kind = pick(rnd, [
      ['Deployment', 14],
      ['BigDeployment', 1],
      ['Pod', 4],
      ['StatefulSet', 1],
    ] as const);
    const app = practices(rnd);
    const sidecars = rnd() < 0.5 ? app : practices(rnd);
    if (kind === 'Pod') add(pod(name, app));
    else if (kind === 'StatefulSet') add(statefulSet(name, [app]));
    else {
      const replicas = rnd() < 0.2 ? 1 : 3;
      const ps = [app, sidecars];
      add(kind === 'BigDeployment' ? bigDeployment(name, ps) : deployment(name, ps, { replicas }));
      const budgets = pick(rnd, [
        [0, 5],
        [1, 4],
        [2, 1],
      ] as const);
      for (let b = 0; b < budgets && out.length < count; b++) add(pdb(b === 0 ? name : `${name}-extra`, { app: name }));
      if (rnd() < 0.7 && out.length < count) add(service(name));
    }
  }
  return out;
}

export function writeCorpus(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  return corpus(count).map(({ file, object }) => {
    const path = join(dir, file);
    writeFileSync(path, stringify(object));
    return path;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, count] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: corpus DIR [COUNT]\n');
    process.exit(2);
  }
  const files = writeCorpus(dir, Number(count ?? 2000));
  process.stdout.write(`${files.length} manifests in ${dir}\n`);
}
