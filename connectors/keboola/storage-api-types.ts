/**
 * The JSON shapes of the Keboola Storage API we read (the fields we use; Keboola sends more). Source: the public
 * Storage API reference (apiary) and the official PHP and Python clients.
 */

/** One metadata entry on a table, column or bucket. */
export interface MetadataEntry {
  id?: string | number;
  key: string;
  value: string;
  /** Who wrote it: `user`, `ai-metadata-enrichment`, `transformation`, `storage`, a component id, … */
  provider: string;
  timestamp?: string;
}

/** `GET /v2/storage/tokens/verify`. */
export interface TokenInfo {
  id: string;
  description?: string;
  isMasterToken?: boolean;
  canManageBuckets?: boolean;
  canReadAllFileUploads?: boolean;
  /** Bucket id → `read` | `write` | `manage`; empty for master tokens and tokens with canManageBuckets. */
  bucketPermissions?: Record<string, string>;
  expires?: string | null;
  /** The project the token belongs to. */
  owner?: { id: number | string; name: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** An item of `GET /v2/storage/buckets`. */
export interface Bucket {
  id: string;
  name: string;
  displayName?: string;
  stage: string;
  description?: string;
  backend?: string;
  created?: string;
  lastChangeDate?: string | null;
  rowsCount?: number;
  dataSizeBytes?: number;
  metadata?: MetadataEntry[];
  [key: string]: unknown;
}

/** A column of a typed table's `definition`. */
export interface ColumnDefinition {
  name: string;
  basetype?: string;
  definition?: { type?: string; length?: string; nullable?: boolean };
}

/** Column metadata by column name (PHP sends an empty list instead of an empty object). */
export type ColumnMetadata = Record<string, MetadataEntry[]>;

/** `GET /v2/storage/tables/{id}` and items of `GET /v2/storage/tables?include=…`. */
export interface TableDetail {
  id: string;
  name: string;
  displayName?: string;
  primaryKey: string[];
  columns: string[];
  created?: string;
  lastImportDate?: string | null;
  lastChangeDate?: string | null;
  rowsCount?: number | null;
  dataSizeBytes?: number | null;
  isAlias?: boolean;
  isTyped?: boolean;
  sourceTable?: { id: string; uri?: string; project?: { id: number | string; name: string }; columnMetadata?: ColumnMetadata | [] };
  metadata?: MetadataEntry[];
  columnMetadata?: ColumnMetadata | [];
  definition?: { primaryKeysNames?: string[]; columns?: ColumnDefinition[] };
  bucket?: Partial<Bucket>;
  [key: string]: unknown;
}

/** A Storage job (`POST …/export-async` answers one; `GET /v2/storage/jobs/{id}` polls it). */
export interface Job {
  id: number | string;
  status: 'waiting' | 'processing' | 'success' | 'error' | string;
  url?: string;
  tableId?: string;
  operationName?: string;
  createdTime?: string;
  startTime?: string | null;
  endTime?: string | null;
  results?: { file?: { id: number | string }; cacheHit?: boolean; [key: string]: unknown } | null;
  error?: { code?: string; message?: string; exceptionId?: string } | null;
  [key: string]: unknown;
}

/** `GET /v2/storage/files/{id}?federationToken=1`, per cloud. */
export interface FileDetail {
  id: number | string;
  name: string;
  /** A pre-signed URL: the file itself, or for a sliced file its manifest. Expires (1 h). */
  url: string;
  isSliced: boolean;
  sizeBytes?: number;
  provider?: 'aws' | 'azure' | 'gcp' | string;
  region?: string;
  /** AWS: temporary credentials for the `s3://` URLs of a sliced file's manifest. */
  credentials?: { AccessKeyId: string; SecretAccessKey: string; SessionToken?: string; Expiration?: string };
  s3Path?: { bucket: string; key: string };
  /** Azure: a SAS connection string for the `azure://` URLs of the manifest. */
  absCredentials?: { SASConnectionString: string; expiration?: string };
  absPath?: { container: string; name: string };
  /** GCP: an OAuth access token for the `gs://` URLs of the manifest. */
  gcsCredentials?: { access_token: string; expires_in?: number; token_type?: string; projectId?: string };
  gcsPath?: { bucket: string; key: string };
  [key: string]: unknown;
}

/** A sliced file's manifest. */
export interface SliceManifest {
  entries: Array<{ url: string; mandatory?: boolean }>;
}

/** A where filter as the export accepts it. */
export interface ExportWhereFilter {
  column: string;
  operator: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
  values: string[];
  /** Needed for numeric comparisons (gt/ge/lt/le), e.g. INTEGER or DOUBLE. */
  dataType?: string;
}

/** The body of `POST /v2/storage/tables/{id}/export-async`. */
export interface ExportParams {
  changedSince?: string;
  changedUntil?: string;
  /** Comma-separated column names; all columns when absent. */
  columns?: string;
  whereFilters?: ExportWhereFilter[];
  gzip?: boolean;
  fileType?: 'csv' | 'parquet';
}

/** Reads a table's column metadata, which PHP serialises as `[]` when empty. */
export function columnMetadataOf(value: ColumnMetadata | [] | undefined): ColumnMetadata {
  return value && !Array.isArray(value) ? value : {};
}
