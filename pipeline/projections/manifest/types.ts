/** Shapes of the distribution manifest: what an analyst may download, with checksums and versions. */
import type { ColumnSchema } from '../../../events/index.ts';

/** One downloadable file. `path` is relative to the analyst's `server/` folder (and to the broker's data dir for Parquet). */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  /** Log position of the event that last changed this file. */
  version: number;
  /** The table the file belongs to (Parquet and table docs). */
  table?: string;
  /** The dataset of a file that is not a table's (a `FilesPublished` set, Jira's attachments). */
  dataset?: string;
}

/** A set of files a connector published for a dataset under one folder (`FilesPublished`); its bytes are blobs. */
export interface ManifestFileSet {
  dataset: string;
  folder: string;
  files: ManifestFile[];
}

/** A published table as the manifest knows it. */
export interface ManifestTable {
  table: string;
  folder: string;
  strategy: string;
  rows: number;
  bytes: number;
  schema: ColumnSchema[];
  publishedAt: string;
  contentHash: string;
  /** Log position of its latest `TablePublished`: the table's published version. */
  version: number;
  /** Its Parquet files (the whole current set). */
  files: ManifestFile[];
}

/** Who a docs variant is for: everyone (`public`, private tables left out) or privileged analysts and admins (`all`). */
export type Audience = 'public' | 'all';

/** State of the manifest projection. */
export interface ManifestState {
  tables: Record<string, ManifestTable>;
  /** File sets by folder (`FilesPublished`): non-table files of datasets, served from the blob store. */
  fileSets: Record<string, ManifestFileSet>;
  /** The generated docs files of each audience (schema, table pages, profiles), as last written by the sink. */
  docs: Record<Audience, ManifestFile[]>;
  /** Position of the last event folded that changes the docs and that the sink has not written yet; 0 when written. */
  pending: number;
}

/** What `GET /api/v1/manifest` answers. */
export interface AnalystManifest {
  /** Manifest format version. */
  format: 1;
  /** Log position the manifest reflects. */
  position: number;
  analyst: { name: string; role: string; datasets: string[] };
  tables: Array<{ name: string; folder: string; version: number; rows: number; partitioned: boolean; dataset?: string; private?: boolean }>;
  files: ManifestFile[];
}
