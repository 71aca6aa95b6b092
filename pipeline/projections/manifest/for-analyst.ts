/** The manifest of one analyst, filtered at request time from the projection's precomputed entries. */
import { catalogTable, datasetIsPrivate } from '../../../config/index.ts';
import type { AdaConfig } from '../../../config/index.ts';
import type { AnalystManifest, Audience, ManifestFile, ManifestState } from './types.ts';

/** Who asks, as the manifest needs it. */
export interface ManifestReader {
  name: string;
  role: 'analyst' | 'privileged' | 'admin';
  /** Datasets subscribed to, with their `requires` closure. */
  datasets: ReadonlySet<string>;
}

/** Why a table is not in someone's manifest, or undefined when it is. */
export type Exclusion = 'private' | 'not-subscribed' | undefined;

/** The audience of a reader's docs variant. */
export function audienceOf(reader: Pick<ManifestReader, 'role'>): Audience {
  return reader.role === 'admin' || reader.role === 'privileged' ? 'all' : 'public';
}

/**
 * Whether a reader gets a table: private tables only for privileged analysts and admins; a table of a
 * dataset only for its subscribers (admins get every dataset); a table without a dataset for everyone.
 */
export function exclusionOf(config: AdaConfig, reader: ManifestReader, table: string): Exclusion {
  const c = catalogTable(config, table);
  if (!c || (c.private && audienceOf(reader) !== 'all')) return 'private';
  if (c.dataset !== undefined && reader.role !== 'admin' && !reader.datasets.has(c.dataset)) return 'not-subscribed';
  return undefined;
}

/**
 * Whether a reader gets a dataset's files (`FilesPublished`): an unknown dataset is no one's (a disabled connector's
 * files go with it); a private dataset, or one requiring a private dataset, only privileged analysts' and admins';
 * otherwise its subscribers' (admins get every dataset).
 */
export function datasetExclusionOf(config: AdaConfig, reader: ManifestReader, dataset: string): Exclusion {
  const datasets = config.instance.datasets;
  if (!Object.hasOwn(datasets, dataset) || (datasetIsPrivate(datasets, dataset) && audienceOf(reader) !== 'all')) return 'private';
  if (reader.role !== 'admin' && !reader.datasets.has(dataset)) return 'not-subscribed';
  return undefined;
}

/** Why a manifest file is not someone's, or undefined when it is theirs (or it is a docs file, which the audience decides). */
export function fileExclusionOf(config: AdaConfig, reader: ManifestReader, file: ManifestFile): Exclusion {
  if (file.table !== undefined) return exclusionOf(config, reader, file.table);
  if (file.dataset !== undefined) return datasetExclusionOf(config, reader, file.dataset);
  return undefined;
}

/** The manifest an analyst gets. */
export function manifestFor(state: ManifestState, config: AdaConfig, reader: ManifestReader, position: number): AnalystManifest {
  const tables = Object.values(state.tables).filter((t) => exclusionOf(config, reader, t.table) === undefined).sort((a, b) => a.table.localeCompare(b.table));
  const visible = new Set(tables.map((t) => t.table));
  const docs = state.docs[audienceOf(reader)].filter((f) => f.table === undefined || visible.has(f.table));
  const sets = Object.values(state.fileSets ?? {}).filter((s) => datasetExclusionOf(config, reader, s.dataset) === undefined).sort((a, b) => a.folder.localeCompare(b.folder));
  const files: ManifestFile[] = [...tables.flatMap((t) => t.files), ...sets.flatMap((s) => s.files), ...docs];
  return {
    format: 1,
    position,
    analyst: { name: reader.name, role: reader.role, datasets: [...reader.datasets].sort() },
    tables: tables.map((t) => {
      const c = catalogTable(config, t.table);
      return {
        name: t.table, folder: t.folder, version: t.version, rows: t.rows, partitioned: Boolean(c?.partitionBy),
        ...(c?.dataset !== undefined ? { dataset: c.dataset } : {}),
        ...(c?.private ? { private: true } : {}),
      };
    }),
    files,
  };
}
