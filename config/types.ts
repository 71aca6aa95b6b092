/** The typed, frozen configuration the rest of the code receives. */

export type SyncStrategy = 'full_refresh' | 'incremental' | 'partitioned';
export type PartitionGranularity = 'month' | 'day' | 'year';
export type FilterOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
/** A source type: one a registered connector declares. */
export type SourceType = string;

export interface WhereFilter {
  column: string;
  operator: FilterOperator;
  /** Raw values; `{{today}}`-style placeholders are resolved at sync time. */
  values: string[];
}

export interface ForeignKey {
  column: string;
  /** `table.column` */
  references: string;
  description?: string;
}

export interface ColumnConfig {
  name: string;
  /** Declared type (UPSTREAM.md vocabulary, e.g. STRING, INTEGER, DATE), upper-cased. */
  type?: string;
  description?: string;
}

/** One configuration problem (or warning), with where it was found. */
export interface ConfigProblem {
  /** Absolute path of the file the problem is in. */
  file: string;
  /** 1-based line in that file, when known. */
  line?: number;
  /** Key path inside the YAML, e.g. `data_source.keboola.storage_token` or `tables[2].name`. */
  path?: string;
  message: string;
}

/** Where a config item was defined, for error messages. */
export interface SourceLocation {
  file: string;
  line: number;
}

/**
 * Settings of the connectors' `data_source.<type>` sections, by type. Empty here: each connector adds its own
 * field by declaration merging (`declare module '…/config/index.ts'`), so deleting a connector deletes its type.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface DataSourceSections {}

/** Top-level sections owned by connectors (Jira's `jira:`), filled by declaration merging like DataSourceSections. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface TopLevelSections {}

/** Per-table keys owned by connectors (csv's `file` and `csv`), filled by declaration merging like DataSourceSections. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface TableSourceOptions {}

export interface TableConfig extends TableSourceOptions {
  id: string;
  name: string;
  description: string;
  /** Configured source this table comes from; default the instance's `data_source.type`. */
  source: string;
  primaryKey: string[];
  syncStrategy: SyncStrategy;
  incrementalWindowDays: number;
  partitionBy?: string;
  partitionGranularity: PartitionGranularity;
  maxHistoryDays?: number;
  initialLoadChunkDays: number;
  whereFilters: WhereFilter[];
  foreignKeys: ForeignKey[];
  /** Output folder: explicit `folder`, else `folder_mapping[bucket]`, else the bucket. */
  folder: string;
  bucket: string;
  dataset?: string;
  columns: ColumnConfig[];
  private: boolean;
  schedule?: string;
  schemaPolicy: 'strict' | 'evolve' | 'freeze';
  location: SourceLocation;
}

export interface DatasetConfig {
  key: string;
  label: string;
  description?: string;
  sizeHint?: string;
  requires: string[];
  /** Only privileged analysts and admins get its files (a connector's declaration sets it; Jira's `jira.private`). */
  private?: boolean;
}

export interface AdminConfig {
  username: string;
  sshPublicKey?: string;
}

export interface InstanceConfig extends TopLevelSections {
  instance: { name: string; subtitle?: string; copyright?: string };
  server: { hostname?: string; host?: string; appDir?: string };
  admins: AdminConfig[];
  auth: {
    /** `oidc` (sign in with the issuer; the default) or `dev` (a local admin without a provider; loopback only). */
    mode?: 'oidc' | 'dev';
    /** OpenID Connect issuer URL (discovery at `<issuer>/.well-known/openid-configuration`). */
    issuer?: string;
    allowedDomain: string;
    clientId?: string;
    clientSecret?: string;
    /** Same as `clientId` (the original's key name). */
    googleClientId?: string;
    /** Same as `clientSecret` (the original's key name). */
    googleClientSecret?: string;
    webappSecretKey: string;
    allowedEmails: string[];
  };
  /** `data_source`: the main source's type, the sources' schedule, and each connector's parsed section. */
  dataSource: { type: SourceType; schedule?: string } & DataSourceSections;
  users: Record<string, { name?: string; initials?: string }>;
  datasets: Record<string, DatasetConfig>;
  catalog: { categories: Record<string, { label?: string; icon?: string }>; order: string[] };
}

/** The whole loaded configuration. */
export interface AdaConfig {
  /** Absolute path of the config directory. */
  configDir: string;
  instanceFile: string;
  instance: InstanceConfig;
  tables: TableConfig[];
  /**
   * Tables enabled connectors publish themselves (Jira's), not synced by `ada sync`: `withDeclaredTables` adds
   * them; the catalog, profiler, manifests, notifications and portal read both lists through `catalogTables`.
   */
  declaredTables?: readonly TableConfig[];
  folderMapping: Record<string, string>;
  /** Files the table definitions were read from. */
  descriptionFiles: string[];
  /** Values that must never be printed (tokens, secrets), for masking. */
  secrets: string[];
  /** Non-fatal findings (unknown keys, Jira disabled, …), for `ada config check`. */
  warnings?: ConfigProblem[];
}
