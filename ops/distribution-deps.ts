/** What `ada serve` hands the distribution API: the manifest projection, subscriptions, and where refusals are recorded. */
import type { AccessState } from '../pipeline/projections/access/index.ts';
import { subscribedDatasets } from '../pipeline/projections/access/index.ts';
import type { ManifestState } from '../pipeline/projections/manifest/index.ts';
import type { DistributionDeps } from '../portal/index.ts';
import type { Broker } from './broker.ts';

/** The distribution deps of an open broker; `accessState` is the caught-up access projection. */
export function distributionDeps(broker: Broker, accessState: () => Promise<AccessState>): DistributionDeps {
  const manifest = broker.projections.manifest!;
  return {
    dataDir: broker.dataDir,
    async manifest() {
      await broker.runner.catchUp(manifest);
      return { state: broker.runner.stateOf(manifest) as ManifestState, position: broker.runner.positionOf('manifest') };
    },
    async datasets(principal) {
      return subscribedDatasets(await accessState(), principal.name, (d) => broker.config.instance.datasets[d]?.requires ?? []);
    },
    async denied(record) {
      await broker.log.append({ type: 'FileAccessDenied', v: 1, source: 'serve:distribution', data: record });
    },
  };
}
