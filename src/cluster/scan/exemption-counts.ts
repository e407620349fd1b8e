// How many live objects each config exemption matches, for `practice-gate exemptions --cluster`.
import { exemptionCovers } from '../../engine/index.js';
import type { EngineConfig } from '../../engine/index.js';
import { KubeClients } from '../api/client.js';
import { describeError } from '../api/errors.js';
import { KubeConfigError, loadKubeConfig } from '../api/kubeconfig.js';
import { scanCluster } from './scanner.js';
import type { ClusterReader } from './scanner.js';

/** One count per exemption, in config order; undefined (after saying why) when the cluster cannot be read. */
export async function countExemptedObjects(
  config: EngineConfig,
  kubeconfig: string | undefined,
  say: (text: string) => void,
  reader?: ClusterReader,
): Promise<number[] | undefined> {
  try {
    const source = reader ?? new KubeClients(loadKubeConfig(kubeconfig)).clusterReader();
    const scan = await scanCluster(source, config, { skipForbidden: true });
    if (scan.forbidden.length > 0) say(`not allowed to list ${scan.forbidden.join(', ')}: those were not counted`);
    return config.exemptions.map((e) => scan.judged.filter((j) => exemptionCovers(e, j.evaluation)).length);
  } catch (err) {
    say(err instanceof KubeConfigError ? err.message : `cannot read the cluster: ${describeError(err)}`);
    return undefined;
  }
}
