import type { EngineConfig } from '../engine/index.js';
import { parseSource } from './documents.js';
import type { SourceObject } from './documents.js';
import { buildReport, contextFor } from './report.js';
import type { AuditReport } from './report.js';
import type { InputProblem, SourceText } from './sources.js';

export interface AuditOutcome {
  report: AuditReport;
  /** Malformed documents; every good document was still judged. */
  problems: InputProblem[];
  /** Kubernetes objects read, of any kind (Services and ConfigMaps included). */
  objectsRead: number;
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
  const report = buildReport(objects, contextFor(objects, defaultNamespace), config, defaultNamespace);
  return { report, problems, objectsRead: objects.length };
}
