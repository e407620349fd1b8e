import { LABEL_MODE, metaOf, nameOf, stringMap } from '../engine/index.js';
import type { EngineConfig } from '../engine/index.js';
import { parseSource } from './documents.js';
import type { SourceObject } from './documents.js';
import { Locator } from './locate.js';
import { buildReport, contextFor } from './report.js';
import type { AuditReport } from './report.js';
import type { InputProblem, SourceText } from './sources.js';

export interface AuditOutcome {
  report: AuditReport;
  /** Malformed documents; every good document was still judged. */
  problems: InputProblem[];
  /** Kubernetes objects read, of any kind (Services and ConfigMaps included). */
  objectsRead: number;
  /** Things the user should know that do not make the input bad (printed on stderr). */
  notes: string[];
}

/**
 * In a cluster only admins may label namespaces, so a namespace's `practice-gate.io/mode:
 * audit` is an admin's decision. In manifests the author writes the Namespace too: honouring
 * the label there would let whoever is being checked switch the check off. Offline, a label
 * may make enforcement stricter but never looser; the config file relaxes it.
 */
function withoutRelaxingLabels(objects: readonly SourceObject[], config: EngineConfig, notes: string[]): SourceObject[] {
  if (config.mode !== 'enforce') return [...objects];
  return objects.map((item) => {
    const meta = metaOf(item.object);
    if (item.object.kind !== 'Namespace' || stringMap(meta.labels)[LABEL_MODE] !== 'audit') return item;
    const where = item.document !== undefined ? `${item.source}: document ${item.document}` : item.source;
    notes.push(
      `${where}: Namespace ${nameOf(item.object) || '(unnamed)'}: label ${LABEL_MODE}=audit ignored offline: only the --config file can relax enforcement here (in a cluster, only admins label namespaces)`,
    );
    const { [LABEL_MODE]: _ignored, ...labels } = stringMap(meta.labels);
    return { ...item, object: { ...item.object, metadata: { ...meta, labels } } };
  });
}

/**
 * Judges manifests as one cluster: every document, whatever its file, is context for the
 * others, so a PDB in pdb.yaml covers the Deployment in deploy.yaml.
 */
export function auditTexts(texts: readonly SourceText[], config: EngineConfig, defaultNamespace: string): AuditOutcome {
  const objects: SourceObject[] = [];
  const problems: InputProblem[] = [];
  for (const text of texts) {
    const parsed = parseSource(text);
    objects.push(...parsed.objects);
    problems.push(...parsed.problems);
  }
  const notes: string[] = [];
  const context = contextFor(withoutRelaxingLabels(objects, config, notes), defaultNamespace);
  const locator = new Locator(texts);
  const report = buildReport(objects, context, config, defaultNamespace, (item, path) => locator.locate(item, path));
  return { report, problems, objectsRead: objects.length, notes };
}
