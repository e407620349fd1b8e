// The admission.k8s.io/v1 AdmissionReview envelope, as the API server sends and expects it.
// Only the envelope is checked here: the object inside goes to the engine untouched.
import { isRecord } from '../engine/index.js';
import type { KubeObject } from '../engine/index.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_KIND = 'AdmissionReview';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface GroupVersionKind {
  group?: string;
  version?: string;
  kind?: string;
}

export interface GroupVersionResource {
  group?: string;
  version?: string;
  resource?: string;
}

export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface AdmissionRequest {
  uid: string;
  kind?: GroupVersionKind;
  resource?: GroupVersionResource;
  subResource?: string;
  requestKind?: GroupVersionKind;
  name?: string;
  namespace?: string;
  /** Untrusted: anything but the four known operations is let through unjudged. */
  operation?: string;
  userInfo?: UserInfo;
  object?: KubeObject | null;
  oldObject?: KubeObject | null;
  dryRun?: boolean;
}

export interface AdmissionStatus {
  code: number;
  message: string;
  reason?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: typeof ADMISSION_KIND;
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

export type EnvelopeResult = { ok: true; request: AdmissionRequest } | { ok: false; message: string };

/** A short description of an untrusted value for an error message (never the whole value). */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Operations whose request carries the new object that practice-gate judges. */
export function writesObject(operation: string | undefined): boolean {
  return operation === 'CREATE' || operation === 'UPDATE';
}

/**
 * Checks the AdmissionReview envelope and returns its request. The message says what is
 * wrong in terms of the webhook configuration, since that is what an admin can change.
 */
export function readAdmissionReview(body: unknown): EnvelopeResult {
  if (!isRecord(body)) return { ok: false, message: `the body must be a JSON object (an AdmissionReview), got ${describe(body)}` };
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    return {
      ok: false,
      message: `apiVersion must be ${ADMISSION_API_VERSION}, got ${describe(body.apiVersion)}: set admissionReviewVersions: ["v1"] in the webhook configuration`,
    };
  }
  if (body.kind !== ADMISSION_KIND) return { ok: false, message: `kind must be ${ADMISSION_KIND}, got ${describe(body.kind)}` };
  const request = body.request;
  if (!isRecord(request)) return { ok: false, message: `request must be an object, got ${describe(request)}` };
  if (typeof request.uid !== 'string' || request.uid === '') {
    return { ok: false, message: `request.uid must be a non-empty string, got ${describe(request.uid)}` };
  }
  const operation = request.operation;
  if (operation !== undefined && typeof operation !== 'string') {
    return { ok: false, message: `request.operation must be a string, got ${describe(operation)}` };
  }
  if (writesObject(operation) && !isRecord(request.object)) {
    return { ok: false, message: `request.object must be a JSON object for ${String(operation)}, got ${describe(request.object)}` };
  }
  if (request.namespace !== undefined && typeof request.namespace !== 'string') {
    return { ok: false, message: `request.namespace must be a string, got ${describe(request.namespace)}` };
  }
  return { ok: true, request: request as unknown as AdmissionRequest };
}

export function reviewResponse(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response };
}
