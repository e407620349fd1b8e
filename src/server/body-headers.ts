// What a request body must be labelled for the gate to read it. The body is read as UTF-8 JSON,
// as sent; a label saying anything else (gzip, brotli, UTF-16, YAML) means the bytes are not
// what would be judged, so the request is refused rather than misread. The kube-apiserver's
// webhook client sends `Content-Type: application/json` and no Content-Encoding, which passes.
import type { IncomingHttpHeaders } from 'node:http';
import { parse } from 'content-type';

const MEDIA_TYPE = 'application/json';
const CHARSETS = new Set(['utf-8', 'utf8']);

/** A header value for a message: quoted, and short whatever the sender put in it. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** Why the body cannot be read as sent (a 415's message), or undefined when it can. */
export function unreadableBody(headers: IncomingHttpHeaders): string | undefined {
  const encoding = headers['content-encoding']?.trim() ?? '';
  if (encoding !== '' && encoding.toLowerCase() !== 'identity') {
    return `Content-Encoding ${quoted(encoding)} is not supported: send the body uncompressed`;
  }
  const contentType = headers['content-type'];
  if (contentType === undefined) return `Content-Type must be ${MEDIA_TYPE}, got none`;
  const { type, parameters } = parse(contentType);
  if (type !== MEDIA_TYPE) return `Content-Type must be ${MEDIA_TYPE}, got ${quoted(contentType)}`;
  const charset = parameters.charset;
  if (charset !== undefined && !CHARSETS.has(charset.toLowerCase())) {
    return `Content-Type charset must be utf-8, got ${quoted(charset)}`;
  }
  return undefined;
}
