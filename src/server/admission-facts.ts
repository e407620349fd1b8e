// The request as a ValidatingAdmissionPolicy sees it, for custom rules: `request` and `oldObject`.
import type { AdmissionFacts } from '../engine/index.js';
import type { AdmissionRequest } from './admission.js';

/** The AdmissionRequest fields VAP's `request` variable carries; the objects are separate variables. */
const REQUEST_FIELDS = [
  'uid',
  'kind',
  'resource',
  'subResource',
  'requestKind',
  'requestResource',
  'requestSubResource',
  'name',
  'namespace',
  'operation',
  'userInfo',
  'options',
  'dryRun',
] as const;

export function admissionFacts(request: AdmissionRequest): AdmissionFacts {
  const fields: Record<string, unknown> = {};
  const source = request as unknown as Record<string, unknown>;
  for (const key of REQUEST_FIELDS) if (source[key] !== undefined) fields[key] = source[key];
  return { oldObject: request.oldObject ?? null, request: fields };
}
