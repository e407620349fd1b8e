// readBoundedBody: a body within the limit comes back byte for byte however it was declared and
// cut into chunks; one over the limit comes back as its size and head only.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import t from 'tap';
import { OversizeBody, readBoundedBody } from '../../src/server/bounded-body.js';
import { HEAD_BYTES } from '../../src/server/review-head.js';

/** `bytes` as a stream of chunks of 1 to 40,000 bytes (the sizes TLS and HTTP hand over vary). */
function chunked(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = [1, 16_384, 40_000, 7, 65_536][i % 5] as number;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks, { objectMode: false });
}

const LIMIT = 1024 * 1024;
const body = randomBytes(300_000);

t.test('a body within the limit comes back byte for byte, whatever its Content-Length said', async (t) => {
  for (const [label, declared] of [
    ['declared exactly', body.length],
    ['not declared', undefined],
    ['declared longer than it is', body.length + 5_000],
    ['declared shorter than it is', body.length - 5_000],
    ['declared over the limit', LIMIT + 1],
  ] as const) {
    const read = await readBoundedBody(chunked(body), LIMIT, declared);
    t.ok(Buffer.isBuffer(read) && read.equals(body), `${label}: the same ${body.length} bytes`);
  }
});

t.test('a body of its declared length comes back in a buffer of its own, which the body pool can hand to a worker', async (t) => {
  const read = await readBoundedBody(chunked(body), LIMIT, body.length);
  t.ok(Buffer.isBuffer(read));
  const buffer = read as Buffer;
  t.equal(buffer.byteOffset, 0);
  t.equal(buffer.buffer.byteLength, body.length, 'the whole ArrayBuffer is the body: it can be transferred, not copied');
});

t.test('over the limit, the body is read to its end and only its size and head are kept', async (t) => {
  const big = Buffer.from(`{"apiVersion":"admission.k8s.io/v1",${'"x":"y",'.repeat(200_000)}"end":1}`);
  t.ok(big.length > LIMIT);
  for (const [label, declared] of [
    ['declared', big.length],
    ['declared under the limit, longer in fact', LIMIT - 10],
    ['not declared', undefined],
  ] as const) {
    const read = await readBoundedBody(chunked(big), LIMIT, declared);
    t.ok(read instanceof OversizeBody, `${label}: oversize`);
    const oversize = read as OversizeBody;
    t.equal(oversize.bytes, big.length, `${label}: every byte counted`);
    t.equal(oversize.head, big.subarray(0, HEAD_BYTES).toString('utf8'), `${label}: the first ${HEAD_BYTES} bytes`);
  }
});
