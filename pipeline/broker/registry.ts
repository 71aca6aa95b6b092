/**
 * The one list of projections and reactors of a broker. `serve`, `sync`, `replay`, `health` and
 * `profile` all read it, so a projection added here is caught up, replayed and lag-checked everywhere.
 */
import type { AdaConfig } from '../../config/index.ts';
import type { BlobStore, NewEvent } from '../../events/index.ts';
import type { Projection } from '../projection.ts';
import { parquetReactor } from '../projections/parquet/reactor.ts';
import type { ParquetWriter } from '../projections/parquet/writer.ts';
import { catalogProjection } from '../projections/catalog/projection.ts';
import { syncStateProjection } from '../projections/sync-state/projection.ts';
import { timersProjection } from '../projections/timers/projection.ts';
import { healthProjection } from '../projections/health/health.ts';
import { accessProjection } from '../projections/access/projection.ts';
import { profilerProjection } from '../projections/profiler/projection.ts';
import { manifestProjection } from '../projections/manifest/projection.ts';
import { PROFILER_PROJECTION } from '../projections/profiler/projection.ts';

/** What the projections are built from. */
export interface RegistryDeps {
  config: AdaConfig;
  writer: () => Promise<ParquetWriter>;
  blobs: BlobStore;
  append: (event: NewEvent) => Promise<unknown>;
  warn: (message: string) => void;
  signal?: AbortSignal;
}

/** Names of the registered projections, in catch-up order (the profiler last: it runs on its own chain). */
export const PROJECTION_NAMES = ['parquet', 'catalog', 'sync-state', 'timers', 'health', 'access', 'manifest', PROFILER_PROJECTION] as const;

/** The profiler: slow (a child process per table), so it is caught up after syncs rather than with them. */
export const BACKGROUND_PROJECTION = PROFILER_PROJECTION;

/** Every projection and reactor of the broker, by name. */
export function projectionRegistry(deps: RegistryDeps): Record<string, Projection<unknown>> {
  const { config, warn } = deps;
  return {
    // The one write path: the bus drives this same reactor after staging, and a replay rebuilds through it.
    parquet: parquetReactor({ config, blobs: deps.blobs, writer: deps.writer, append: deps.append, logger: { warn } }) as Projection<unknown>,
    catalog: catalogProjection(config) as Projection<unknown>,
    'sync-state': syncStateProjection as Projection<unknown>,
    timers: timersProjection as Projection<unknown>,
    health: healthProjection as Projection<unknown>,
    access: accessProjection as Projection<unknown>,
    // The analysts' manifests and filtered docs: computed when tables are published, not per request.
    manifest: manifestProjection(config) as Projection<unknown>,
    [PROFILER_PROJECTION]: profilerProjection({ config, append: deps.append, logger: { warn }, ...(deps.signal ? { signal: deps.signal } : {}) }) as Projection<unknown>,
  };
}
