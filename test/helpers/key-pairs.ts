// The certificate manager's tests issue a hundred certificates or more; a fresh 2048-bit RSA pair
// costs ~150 ms of CPU each, most of those tests' time. They take pairs from a small pool instead,
// handed out in turn: no two of the last sixteen certificates share a key, so what rotation tests
// compare (old CA against new, CA against the certificate it signs) stays apart.
import type { KeyPairSource } from '../../src/tls/generate.js';
import { newRsaKeyPair } from '../../src/tls/generate.js';

const POOL_SIZE = 16;
const pool: ReturnType<KeyPairSource>[] = [];
let handedOut = 0;

export const pooledKeyPairs: KeyPairSource = () => {
  const index = handedOut++ % POOL_SIZE;
  pool[index] ??= newRsaKeyPair();
  return pool[index];
};
