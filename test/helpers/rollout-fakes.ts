// Fakes for the replica observation: EndpointSlices as the API server returns them, and a probe
// that answers per address with a chosen certificate or error instead of a TLS handshake.
import { X509Certificate } from 'node:crypto';
import type { CertificateProbe, EndpointSliceSource } from '../../src/cluster/certs/rollout.js';

export interface FakeEndpoint {
  pod: string;
  address: string;
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
}

/** One discovery.k8s.io/v1 EndpointSlice, shaped like the chart's Service port by default. */
export function endpointSlice(
  endpoints: FakeEndpoint[],
  ports: Array<{ name?: string; port: number }> = [{ name: 'https-webhook', port: 8443 }],
): Record<string, unknown> {
  return {
    metadata: { name: 'practice-gate-x1', namespace: 'practice-gate', labels: { 'kubernetes.io/service-name': 'practice-gate' } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.address],
      conditions: e.conditions ?? { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'practice-gate', name: e.pod },
    })),
  };
}

export class FakeSlices implements EndpointSliceSource {
  lists = 0;
  failure: unknown;
  constructor(public slices: unknown[]) {}

  async list(): Promise<unknown[]> {
    this.lists++;
    if (this.failure !== undefined) throw this.failure;
    return structuredClone(this.slices);
  }
}

export class FakeProbe implements CertificateProbe {
  readonly #answers = new Map<string, () => string | Error>();
  probed: string[] = [];

  /** The address serves this certificate (read at each probe, so a function can follow a replica's reloads). */
  serve(address: string, pem: string | (() => string)): void {
    this.#answers.set(address, typeof pem === 'string' ? () => pem : pem);
  }

  fail(address: string, err: Error): void {
    this.#answers.set(address, () => err);
  }

  async peerCertificate(address: string, port: number): Promise<X509Certificate> {
    this.probed.push(`${address}:${port}`);
    const answer = this.#answers.get(address)?.() ?? new Error(`connect ECONNREFUSED ${address}:${port}`);
    if (answer instanceof Error) throw answer;
    return new X509Certificate(answer);
  }
}
