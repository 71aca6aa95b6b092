/**
 * The manifest projection: every file the distribution API may hand out, with size, sha256 and version,
 * computed when tables are published or profiled (never per request). Parquet entries come straight from
 * `TablePublished`; the docs and profiles are written per audience by the sink.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { catalogTables } from '../../../config/index.ts';
import type { AdaConfig } from '../../../config/index.ts';
import { assertNever } from '../../../events/index.ts';
import { defineProjector } from '../../projection.ts';
import type { HandledEvent, Projection } from '../../projection.ts';
import { writeVariant } from './docs-variants.ts';
import type { ManifestFile, ManifestState } from './types.ts';

/** The state before any event. */
export function emptyManifest(): ManifestState {
  return { tables: {}, docs: { public: [], all: [] }, pending: 0 };
}

/** Folds `TablePublished` (the table's files and version) and profile events (docs to rewrite). */
/** Events the manifest folds. */
export const MANIFEST_EVENTS = ['TablePublished', 'TableProfiled', 'TableProfileFailed'] as const;

/** An event the manifest folds. */
export type ManifestEvent = HandledEvent<(typeof MANIFEST_EVENTS)[number]>;

export function evolveManifest(state: ManifestState, e: ManifestEvent): ManifestState {
  switch (e.type) {
    case 'TablePublished': {
      const d = e.data;
      const before = new Map((state.tables[d.table]?.files ?? []).map((f) => [f.path, f]));
      const files: ManifestFile[] = d.files.map((f) => {
        const old = before.get(f.path);
        return old && old.sha256 === f.sha256 ? old : { path: f.path, size: f.bytes, sha256: f.sha256, version: e.position, table: d.table };
      });
      const table = { table: d.table, folder: d.folder, strategy: d.strategy, rows: d.rows, bytes: d.bytes, schema: d.schema, publishedAt: e.at, contentHash: d.contentHash, version: e.position, files };
      return { ...state, tables: { ...state.tables, [d.table]: table }, pending: e.position };
    }
    case 'TableProfiled':
    case 'TableProfileFailed':
      return { ...state, pending: e.position };
    default:
      return assertNever(e);
  }
}

/** Format version of the projection's state and outputs; bump to rebuild. */
const FORMAT_VERSION = 1;

/**
 * The projection's version: its format plus a digest of the table configuration, so a table made private
 * (or re-described) rebuilds the docs variants on the next start instead of serving stale ones.
 */
export function manifestVersion(config: AdaConfig): number {
  const digest = createHash('sha256').update(JSON.stringify(catalogTables(config))).digest().readUInt32BE(0) % 1_000_000;
  return FORMAT_VERSION * 1_000_000 + digest;
}

/** Creates the manifest projection for a configuration. */
export function manifestProjection(config: AdaConfig): Projection<ManifestState, ManifestEvent['type']> {
  return defineProjector({
    name: 'manifest',
    version: manifestVersion(config),
    handles: MANIFEST_EVENTS,
    initialState: emptyManifest,
    evolve: evolveManifest,
    async sink(state, ctx) {
      if (state.pending === 0) return state;
      const all = await writeVariant(ctx.dataDir, state, config, 'all', state.pending);
      const pub = await writeVariant(ctx.dataDir, state, config, 'public', state.pending);
      return { ...state, docs: { all, public: pub }, pending: 0 };
    },
    reset: ({ dataDir }) => rm(path.join(dataDir, 'distribution'), { recursive: true, force: true }),
  });
}
