/** What `ada serve` hands the distribution API: the manifest projection, subscriptions, and where refusals are recorded. */
import { subscribedDatasets } from '../pipeline/index.ts';
import type { AccessState, Broker, ManifestState } from '../pipeline/index.ts';
import type { DistributionDeps } from '../portal/index.ts';

/** The distribution deps of an open broker; `accessState` is the caught-up access projection. */
export function distributionDeps(broker: Broker, accessState: () => Promise<AccessState>): DistributionDeps {
  return {
    dataDir: broker.dataDir,
    blobsDir: broker.blobs.root,
    async manifest() {
      const state = await broker.stateOf<ManifestState>('manifest');
      return { state, position: broker.positionOf('manifest') };
    },
    async datasets(principal) {
      return subscribedDatasets(await accessState(), principal.name, (d) => broker.config.instance.datasets[d]?.requires ?? []);
    },
    async denied(record) {
      await broker.append([{ type: 'FileAccessDenied', v: 1, source: 'serve:distribution', data: record }]);
    },
  };
}
