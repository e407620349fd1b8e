// The parsed flags of `practice-gate serve`: serve.ts declares them, serve-run.ts (loaded only
// when serve runs) acts on them; the type sits apart so that neither imports the other back.
import type { ClusterFlags } from './cluster-flags.js';
import type { OnError } from '../server/review.js';

export interface ServeFlags extends ClusterFlags {
  port: number;
  host?: string;
  probePort?: number;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  dev?: boolean;
  devWebhookConfig?: string;
  config?: string;
  onError: OnError;
  shutdownTimeout: number;
  logLevel: string;
  now?: number;
}
