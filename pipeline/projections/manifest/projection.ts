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
import { assertNever, isPlainRelativePath } from '../../../events/index.ts';
import type { EventOf } from '../../../events/index.ts';
import { defineProjector } from '../../projection.ts';
import type { HandledEvent, Projection } from '../../projection.ts';
import { writeVariant } from './docs-variants.ts';
import type { ManifestFile, ManifestState } from './types.ts';

/** The state before any event. */
export function emptyManifest(): ManifestState {
  return { tables: {}, fileSets: {}, docs: { public: [], all: [] }, pending: 0 };
}

/** Events the manifest folds. */
export const MANIFEST_EVENTS = ['TablePublished', 'FilesPublished', 'TableProfiled', 'TableProfileFailed'] as const;

/** An event the manifest folds. */
export type ManifestEvent = HandledEvent<(typeof MANIFEST_EVENTS)[number]>;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Top folders of the broker's own files (Parquet, docs, profiles): a published file set may not use them. */
export const RESERVED_TOP_FOLDERS: readonly string[] = ['parquet', 'docs', 'metadata'];

/**
 * The files of a `FilesPublished` the API can serve: a path of manifest shape strictly under a folder that is not one
 * of the broker's own, a sha256 naming a blob, one entry per path. Anything else is left out, never served.
 */
function setFiles(d: EventOf<'FilesPublished'>['data'], version: number, before: ManifestFile[]): ManifestFile[] {
  const folder = d.folder;
  if (!isPlainRelativePath(folder) || RESERVED_TOP_FOLDERS.includes(folder.split('/')[0]!)) return [];
  const old = new Map(before.map((f) => [f.path, f]));
  const out = new Map<string, ManifestFile>();
  for (const f of d.files) {
    if (!f.path.startsWith(`${folder}/`) || !isPlainRelativePath(f.path) || !SHA256_HEX.test(f.sha256) || !Number.isSafeInteger(f.bytes) || f.bytes < 0) continue;
    const prev = old.get(f.path);
    out.set(f.path, prev && prev.sha256 === f.sha256 ? prev : { path: f.path, size: f.bytes, sha256: f.sha256, version, dataset: d.dataset });
  }
  return [...out.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** Folds `TablePublished` (the table's files and version), `FilesPublished` (a folder's file set) and profile events (docs to rewrite). */
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
    case 'FilesPublished': {
      const { [e.data.folder]: before, ...rest } = state.fileSets;
      const files = setFiles(e.data, e.position, before?.dataset === e.data.dataset ? before.files : []);
      return { ...state, fileSets: files.length ? { ...rest, [e.data.folder]: { dataset: e.data.dataset, folder: e.data.folder, files } } : rest };
    }
    case 'TableProfiled':
    case 'TableProfileFailed':
      return { ...state, pending: e.position };
    default:
      return assertNever(e);
  }
}

/** Format version of the projection's state and outputs; bump to rebuild. */
const FORMAT_VERSION = 2;

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
