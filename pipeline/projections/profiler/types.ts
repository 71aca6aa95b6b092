/**
 * Shapes of the profiler: the per-table profile written to `metadata/profiles.json` (snake_case, as analysts and
 * the portal read it), the job a profiling process runs, and the options and outcomes of a profiling run.
 */
import type { ColumnSchema, PublishedFile, RecordedError } from '../../../events/index.ts';

/** How a column is profiled, from its DuckDB type. */
export type ColumnCategory = 'numeric' | 'string' | 'date' | 'boolean' | 'other';

/** How much an alert matters: `critical` breaks joins or keys, `warning` needs a look, `info` describes the data. */
export type AlertSeverity = 'info' | 'warning' | 'critical';

export type AlertType =
  | 'constant' | 'unique' | 'missing' | 'high_missing' | 'imbalance' | 'zeros' | 'high_cardinality'
  | 'duplicate_primary_key' | 'null_primary_key' | 'empty';

/** A finding about a table (no `column`) or one of its columns. */
export interface ProfileAlert {
  type: AlertType;
  column?: string;
  message: string;
  severity: AlertSeverity;
}

/** One bin of an equal-width histogram: `[start, end)`, the last bin closed. Dates are strings. */
export interface HistogramBin {
  start: number | string;
  end: number | string;
  count: number;
}

/** A frequent value of a low-cardinality column; `percent` of the column's non-null values. */
export interface TopValue {
  value: string;
  count: number;
  percent: number;
}

/** What every column profile has. Counts are over all rows; see `TableProfile.sampled` for the rest. */
interface ColumnProfileBase {
  name: string;
  /** DuckDB type, e.g. BIGINT, VARCHAR, TIMESTAMP. */
  type: string;
  null_count: number;
  /** Non-null values as a percent of rows (100 for an empty table). */
  completeness: number;
  /** Distinct non-null values; approximate (HyperLogLog) when `unique_approximate`. */
  unique_count: number;
  /** Distinct values as a percent of non-null values. */
  unique_percent: number;
  unique_approximate?: true;
  /** Up to five distinct non-null values. */
  samples: unknown[];
  is_primary_key: boolean;
}

export interface NumericColumnProfile extends ColumnProfileBase {
  category: 'numeric';
  min: number | null;
  max: number | null;
  mean: number | null;
  median: number | null;
  /** Sample standard deviation (n − 1), as pandas reports it. */
  stddev: number | null;
  p5: number | null;
  p25: number | null;
  p75: number | null;
  p95: number | null;
  zeros: number;
  negatives: number;
  /** 15 equal-width bins over [min, max]; one bin when min = max; empty without values. */
  histogram: HistogramBin[];
}

export interface StringColumnProfile extends ColumnProfileBase {
  category: 'string';
  min_length: number | null;
  max_length: number | null;
  avg_length: number | null;
  /** The ten most frequent values, when the column has at most 50 distinct values. */
  top_values?: TopValue[];
}

export interface DateColumnProfile extends ColumnProfileBase {
  category: 'date';
  /** As DuckDB prints them: `2024-01-05`, `2024-01-05 10:00:00`. */
  earliest: string | null;
  latest: string | null;
  span_days: number | null;
  histogram: HistogramBin[];
}

export interface BooleanColumnProfile extends ColumnProfileBase {
  category: 'boolean';
  true_count: number;
  false_count: number;
}

export interface OtherColumnProfile extends ColumnProfileBase {
  category: 'other';
}

/** A column's profile, by category. */
export type ColumnProfile = NumericColumnProfile | StringColumnProfile | DateColumnProfile | BooleanColumnProfile | OtherColumnProfile;

/** The span of the table's main date column (the partition column, else the first date column). */
export interface DateRange {
  column: string;
  earliest: string;
  latest: string;
  span_days: number;
}

/** A foreign key linking this table with another, from the configuration; both directions are listed. */
export interface RelatedTable {
  table: string;
  /** `outgoing`: this table's column references `table`; `incoming`: `table` references this table. */
  direction: 'outgoing' | 'incoming';
  /** `table.column` holding the reference. */
  from: string;
  /** `table.column` referenced. */
  to: string;
  description?: string;
}

/** What the profiling process computes from the Parquet files (no configuration, no alerts). */
export interface ComputedProfile {
  row_count: number;
  column_count: number;
  sampled: boolean;
  /** Rows the distribution statistics were computed on: all rows, or the sample. */
  sample_size: number;
  avg_completeness: number;
  missing_cells: number;
  /** Rows sharing their primary key with another row; null without a (complete) primary key. */
  duplicate_primary_keys: number | null;
  /** Rows with a null in a primary-key column; null without a primary key. */
  null_primary_keys: number | null;
  date_range: DateRange | null;
  sample_rows: Array<Record<string, unknown>>;
  columns: ColumnProfile[];
}

/** A table's entry in `profiles.json`. */
export interface TableProfile extends ComputedProfile {
  table: string;
  folder: string;
  description?: string;
  /** Only privileged analysts and admins may see this table (and so this profile, which holds sample values). */
  private?: true;
  content_hash: string;
  /** Hash of what the profile was computed from (files, profiler version, settings): a replay keeps a profile whose inputs did not change. */
  inputs_hash?: string;
  /** When the profile was computed; a profile a replay kept keeps its time. */
  profiled_at: string;
  duration_ms: number;
  file_count: number;
  file_size: number;
  file_size_mb: number;
  /** Time of the `TablePublished` event the profile describes. */
  last_sync: string;
  sync_strategy: string;
  primary_key: string[];
  related_tables: RelatedTable[];
  alerts: ProfileAlert[];
  /** True when the latest publish could not be profiled: this profile describes an older publish. */
  stale: boolean;
  stale_reason?: string;
  stale_since?: string;
}

/** `metadata/profiles.json`. */
export interface ProfilesDocument {
  generated_at: string;
  /** Format version of the document; bumped on incompatible changes. */
  version: number;
  tables: Record<string, TableProfile>;
}

/** The latest publish of a table, as the profiler keeps it. */
export interface TablePublish {
  table: string;
  folder: string;
  strategy: string;
  files: PublishedFile[];
  rows: number;
  bytes: number;
  schema: ColumnSchema[];
  contentHash: string;
  /** Time of the `TablePublished` event. */
  publishedAt: string;
}

/** One table for the profiling process: absolute file paths and what decides sampling. */
export interface ProfileJob {
  table: string;
  files: string[];
  /** Published schema, used when the table has no files (an empty partitioned table). */
  schema: ColumnSchema[];
  primaryKey: string[];
  /** Preferred column for the table's date range (the partition column). */
  dateColumn?: string;
  sampleThreshold: number;
  sampleSize: number;
  seed: number;
}

/** DuckDB settings of a profiling process. */
export interface EngineSettings {
  memoryLimit: string;
  threads: number;
  /** Spill directory; the process uses a subdirectory named after its pid. */
  tempDirectory: string;
}

/** What a profiling process reports besides the profile: its settings as DuckDB read them back, and its peak memory. */
export interface EngineReport {
  memoryLimit: string;
  threads: number;
  peakRssMb: number;
}

/** Tuning of the profiler; every field has a default. */
export interface ProfilerOptions {
  /** Tables with more rows are profiled on a sample (default 500,000). */
  sampleThreshold?: number;
  /** Rows in the sample (default: the threshold). */
  sampleSize?: number;
  /** DuckDB memory_limit of the profiling process (default '512MB'). */
  memoryLimit?: string;
  /** DuckDB threads of the profiling process (default: cores, at most 4). */
  threads?: number;
  /** A table taking longer is abandoned and its process killed (default 15 min). */
  timeoutMs?: number;
  /** Seed of the sample (default 42). */
  seed?: number;
}

/** How profiling one table ended. */
export interface ProfileOutcome {
  table: string;
  contentHash: string;
  /** `skipped`: a replay met files that later publishes replaced; nothing was recorded. */
  status: 'profiled' | 'failed' | 'skipped';
  durationMs: number;
  rows?: number;
  columns?: number;
  alerts?: number;
  sampled?: boolean;
  sampleSize?: number;
  error?: RecordedError;
  /** A failed table whose previous profile was kept and marked stale. */
  stale?: boolean;
  /** A replay kept the table's previous profile: its inputs were unchanged, so it was not computed again. */
  reused?: true;
  engine?: EngineReport;
}

/** Progress of a profiling run, for terminals and the portal. */
export interface ProfileProgress {
  table: string;
  /** 1-based index of the table in this run, and the number of tables. */
  index: number;
  total: number;
  phase: 'start' | 'done' | 'failed' | 'skipped';
  outcome?: ProfileOutcome;
}
