// Whether two probes run the same check: the handler and its target, normalized as the kubelet
// reads them, timings aside. Compared field by field: it runs for every container of every
// review, so it builds nothing it does not need.
import { isRecord, sameJson } from '../../src/engine/index.js';
import type { Container } from '../../src/engine/index.js';

const HANDLERS = ['httpGet', 'tcpSocket', 'grpc', 'exec'] as const;

/** True when both probes have a handler and every handler they have checks the same thing. */
export function sameCheck(a: unknown, b: unknown, container: Container): boolean {
  if (!isRecord(a) || !isRecord(b)) return false;
  let handlers = 0;
  for (const kind of HANDLERS) {
    const x = a[kind];
    const y = b[kind];
    if (!isRecord(x) && !isRecord(y)) continue;
    if (!isRecord(x) || !isRecord(y) || !sameHandler(kind, x, y, container)) return false;
    handlers++;
  }
  return handlers > 0;
}

function sameHandler(
  kind: (typeof HANDLERS)[number],
  x: Record<string, unknown>,
  y: Record<string, unknown>,
  container: Container,
): boolean {
  if (kind === 'exec') return sameJson(x.command ?? null, y.command ?? null);
  if (!sameJson(portOf(x.port, container), portOf(y.port, container))) return false;
  if (kind === 'grpc') return sameJson(x.service ?? '', y.service ?? '');
  if (!sameJson(x.host ?? '', y.host ?? '')) return false;
  if (kind === 'tcpSocket') return true;
  return (
    sameJson(x.scheme ?? 'HTTP', y.scheme ?? 'HTTP') &&
    sameJson(pathOf(x.path), pathOf(y.path)) &&
    sameHeaders(x.httpHeaders, y.httpHeaders)
  );
}

/** The kubelet resolves a named port through the container's ports, then tries the name as a number. */
function portOf(port: unknown, container: Container): unknown {
  if (typeof port !== 'string') return port ?? null;
  const ports = (container as { ports?: unknown }).ports;
  const named = Array.isArray(ports) ? ports.find((p: unknown) => isRecord(p) && p.name === port) : undefined;
  if (isRecord(named) && typeof named.containerPort === 'number') return named.containerPort;
  return /^\d+$/.test(port) ? Number(port) : port;
}

/** The URL path as requested: no path is `/`, and a path without a leading slash gets one. */
function pathOf(path: unknown): unknown {
  if (path === undefined || path === null || path === '') return '/';
  return typeof path === 'string' && !path.startsWith('/') ? `/${path}` : path;
}

/** Header names are case-insensitive and their order does not matter. */
function sameHeaders(a: unknown, b: unknown): boolean {
  const none = (h: unknown) => h === undefined || h === null || (Array.isArray(h) && h.length === 0);
  if (none(a) && none(b)) return true;
  if (!Array.isArray(a) || !Array.isArray(b)) return sameJson(a, b);
  const canonical = (headers: unknown[]) =>
    headers.map((h) => JSON.stringify(isRecord(h) && typeof h.name === 'string' ? [h.name.toLowerCase(), h.value ?? ''] : h)).sort();
  return sameJson(canonical(a), canonical(b));
}
