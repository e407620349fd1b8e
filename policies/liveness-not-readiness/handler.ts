// What a probe checks, without its timings: the handler and its target, normalized as the
// kubelet reads them, so that two probes compare equal exactly when they run the same check.
import { isRecord } from '../../src/engine/index.js';
import type { Container } from '../../src/engine/index.js';

/** A comparable description of a probe's check, or undefined when it has no handler to compare. */
export function checkOf(probe: unknown, container: Container): string | undefined {
  if (!isRecord(probe)) return undefined;
  const parts: unknown[] = [];
  if (isRecord(probe.httpGet)) {
    const h = probe.httpGet;
    parts.push(['httpGet', portOf(h.port, container), h.host ?? '', h.scheme ?? 'HTTP', pathOf(h.path), headersOf(h.httpHeaders)]);
  }
  if (isRecord(probe.tcpSocket)) parts.push(['tcpSocket', portOf(probe.tcpSocket.port, container), probe.tcpSocket.host ?? '']);
  if (isRecord(probe.grpc)) parts.push(['grpc', portOf(probe.grpc.port, container), probe.grpc.service ?? '']);
  if (isRecord(probe.exec)) parts.push(['exec', probe.exec.command ?? null]);
  return parts.length > 0 ? JSON.stringify(parts) : undefined;
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
function headersOf(headers: unknown): unknown {
  if (!Array.isArray(headers)) return headers ?? [];
  return headers
    .map((h: unknown) => (isRecord(h) && typeof h.name === 'string' ? [h.name.toLowerCase(), h.value ?? ''] : h))
    .map((h) => JSON.stringify(h))
    .sort();
}
