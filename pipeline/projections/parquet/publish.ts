/**
 * The I/O core of the Parquet projection: turns the staged chunks of one sync run into a table's new published
 * Parquet files, atomically, with DuckDB SQL. Event-log code lives in the projection around it.
 *
 * fsync policy: every new file is fsynced before its rename; the journal is fsynced (file and directory) before the
 * first rename; the manifest and state files are fsynced, then each directory holding a rename, deletion or write,
 * before the journal is removed, last. A crash at any point leaves, per file, the old or the new version, and
 * recover() finishes the publish.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createDuckDBInstance } from '../../duckdb-instance.ts';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { TableConfig } from '../../../config/index.ts';
import type { ColumnSchema, PublishedFile } from '../../../events/index.ts';
import { AdaError, adaError, ErrorCode, hashFile } from '../../../events/index.ts';
import { normaliseDuckType } from '../../column-types.ts';
import { diskFullError } from '../../disk-full.ts';
import { quoteLiteral } from '../../sql/where-filters.ts';
import { fsyncFile } from './atomic-files.ts';
import { isPartitionKey } from './partition-key.ts';
import { RowHashTaps, rowContentSha } from './row-hash-tap.ts';
import { applyJournal, readJournal, recoverPublishes, writeJournal } from './publish-journal.ts';
import type { PublishJournal } from './publish-journal.ts';
import { mergeSchema } from './schema-merge.ts';
import type { SchemaChange } from './schema-merge.ts';
import { isInsideParquetRoot, MANIFEST_NAME, partitionFile, tableLayout } from './table-layout.ts';
import type { TableLayout } from './table-layout.ts';
import { dropRunTables, keyRangeAggregates, keyRangeFrom, mapConcurrently, parquetRowCount, writePartitions, writeSingleFile } from './write-table.ts';
import type { KeyRange, WriteContext, WrittenFile } from './write-table.ts';
import { PipelineErrorCode } from '../../errors.ts';

/** One publish: a table, the staged chunks of one run, and what is published now. */
export interface PublishInput {
  /** Absolute; files go under `<dataDir>/parquet/`. */
  dataDir: string;
  table: TableConfig;
  /** Staged Parquet files of this run, in order; read only (they live in the content-addressed blob store). */
  chunks: Array<{ path: string; rows: number; schema: ColumnSchema[] }>;
  mode: 'replace' | 'upsert';
  /** What is published now (from the last publish); undefined on the first publish. */
  previous?: PublishedTable;
  /**
   * Caller state files (paths under `metadata/`, relative to dataDir) written in the same journal as the
   * table's files, so a crash leaves both old or both new.
   */
  extraFiles?: (result: PublishResult) => Array<{ path: string; content: string }>;
}

/** A table's published state. */
export interface PublishedTable {
  folder: string;
  files: PublishedFile[];
  rows: number;
  bytes: number;
  schema: ColumnSchema[];
  /** sha256 over the sorted `path:sha256` lines of all files. */
  contentHash: string;
  /**
   * Partitioned tables with a primary key: the key range of each file, by path, so an upsert opens only the
   * partitions that may hold one of its keys. Kept in the writer's state only, never in events (key values are data).
   */
  keyRanges?: Record<string, KeyRange>;
  /**
   * Files with a `contentSha`: the sum of their rows' DuckDB hashes (decimal), by path, so that the next merge into a
   * file derives the merged file's sum instead of hashing every row (see copyMerge in write-table.ts). Kept in the
   * writer's state only; a state without it (written by an older version) costs one full hash per file.
   */
  rowSums?: Record<string, string>;
}

/** A table's published state after a publish, with what changed. */
export interface PublishResult extends PublishedTable {
  /** Partitioned tables: the partition keys whose file was added, rewritten with different bytes, or removed. */
  touchedPartitions?: string[];
  /** The difference from the previous schema; undefined when nothing changed and on a first publish. */
  schemaChange?: SchemaChange;
  /** Rows of this run after keeping one row per primary key, when the run was deduplicated; else the staged rows count. */
  runRows?: number;
}

export interface ParquetPublisherOptions {
  /** DuckDB memory_limit; bigger merges spill to `<dataDir>/tmp/duckdb/parquet`. */
  memoryLimit?: string;
  /** DuckDB worker threads; default: DuckDB's (one per core). Output bytes do not depend on it. */
  threads?: number;
}

/**
 * Measured under this limit on 5M rows of 8 columns: a full refresh peaks at ~0.2 GB RSS, a 100k-row upsert at
 * ~0.85 GB (the sort), a 60-month partitioned export at ~0.6 GB; more than that spills to the temp directory.
 */
export const DEFAULT_MEMORY_LIMIT = '1GB';

/** DuckDB's spill directory, relative to the data directory; the publisher owns it and recover() empties it. */
export const DUCKDB_TEMP_DIR = 'tmp/duckdb/parquet';

/** Code of a publish that failed in DuckDB or the file system; the published files stay as they were. */
export const PUBLISH_FAILED = PipelineErrorCode.publishFailed;

/** Code of a publish that failed after its journal was written; the journal completes it on the next publish of the table or recover(). */
export const PUBLISH_INCOMPLETE = 'PUBLISH_INCOMPLETE';

/** Manifest of a partitioned table, `parquet/<folder>/<name>/_manifest.json`. */
export interface PartitionManifest {
  v: 1;
  table: string;
  partitionBy: string;
  granularity: string;
  schema: ColumnSchema[];
  /** Current partition files; `file` is relative to the manifest's directory. */
  files: Array<{ partition: string; file: string; rows: number; bytes: number; sha256: string }>;
  rows: number;
  bytes: number;
  contentHash: string;
}

/** Publishes tables' Parquet files with one DuckDB instance; calls run one at a time. */
export class ParquetPublisher {
  readonly #instance: DuckDBInstance;
  readonly #memoryLimitBytes: number;
  readonly #rowTaps: RowHashTaps;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #queue: Promise<void> = Promise.resolve();
  #tempDir: string | undefined;

  private constructor(instance: DuckDBInstance, memoryLimitBytes: number, rowTaps: RowHashTaps) {
    this.#instance = instance;
    this.#memoryLimitBytes = memoryLimitBytes;
    this.#rowTaps = rowTaps;
  }

  /** Starts the DuckDB instance: insertion order preserved (deterministic output), UTC session time zone, the row-hash tap registered. */
  static async create(opts: ParquetPublisherOptions = {}): Promise<ParquetPublisher> {
    const config: Record<string, string> = {
      memory_limit: opts.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
      preserve_insertion_order: 'true',
    };
    if (opts.threads !== undefined) config.threads = String(opts.threads);
    const instance = await createDuckDBInstance(':memory:', config);
    let rowTaps: RowHashTaps;
    try {
      const conn = await instance.connect();
      try {
        // ICU is linked in but not loaded when the config is applied, so the time zone is set here: casts of TIMESTAMPTZ must not depend on the host.
        await conn.run(`SET GLOBAL TimeZone = 'UTC'`);
        rowTaps = RowHashTaps.register(conn);
      } finally {
        conn.closeSync();
      }
    } catch (err) {
      instance.closeSync();
      throw err;
    }
    return new ParquetPublisher(instance, parseByteSize(config.memory_limit ?? DEFAULT_MEMORY_LIMIT) ?? 1e9, rowTaps);
  }

  /** Publishes one run of a table; on error nothing published changes. */
  async publish(input: PublishInput): Promise<PublishResult> {
    this.#assertOpen();
    return this.#enqueue(() => this.#publish(input));
  }

  /**
   * Finishes publishes a crash interrupted (rolls their journals forward), removes stray temp files and DuckDB's
   * spill files. Call on start, before publishing into `dataDir`.
   */
  async recover(dataDir: string): Promise<void> {
    this.#assertOpen();
    return this.#enqueue(async () => {
      assertAbsolute(dataDir);
      await recoverPublishes(dataDir);
      await rm(path.join(dataDir, DUCKDB_TEMP_DIR), { recursive: true, force: true });
      await this.#useTempDir(dataDir);
    });
  }

  /** Waits for queued calls, then closes DuckDB. */
  async close(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    await this.#queue;
    this.#state = 'closed';
    this.#instance.closeSync();
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw adaError(ErrorCode.closed, 'the Parquet publisher is closed');
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    // One call at a time: DuckDB already uses every core for one query, and two 5M-row merges would share the memory limit.
    const result = this.#queue.then(fn);
    this.#queue = result.then(() => undefined, () => undefined);
    return result;
  }

  async #useTempDir(dataDir: string): Promise<void> {
    const dir = path.join(dataDir, DUCKDB_TEMP_DIR);
    await mkdir(dir, { recursive: true });
    if (this.#tempDir === dir) return;
    const conn = await this.#instance.connect();
    try {
      await conn.run(`SET GLOBAL temp_directory = ${quoteLiteral(dir)}`);
      this.#tempDir = dir;
    } finally {
      conn.closeSync();
    }
  }

  async #publish(input: PublishInput): Promise<PublishResult> {
    const { table, mode, previous } = input;
    assertAbsolute(input.dataDir);
    if (mode !== 'replace' && mode !== 'upsert') throw adaError(ErrorCode.badArgument, `table ${table.name}: mode must be replace or upsert, got ${String(mode)}`);
    const layout = tableLayout(table.folder, table.name);
    const dataDir = input.dataDir;
    await this.#useTempDir(dataDir);
    const pending = await readJournal(dataDir, layout.journal);
    if (pending) await applyJournal(dataDir, layout.journal, pending);

    const chunkPaths = input.chunks.map((c) => path.resolve(c.path));
    await assertChunksExist(table.name, chunkPaths);
    const merged = mergeSchema({ table, previous: previous?.schema, chunks: input.chunks.map((c) => c.schema), mode });
    checkColumns(table, merged.schema, mode);

    const previousFiles = previous?.files ?? [];
    for (const f of previousFiles) {
      if (!isInsideParquetRoot(f.path)) throw adaError(ErrorCode.badArgument, `table ${table.name}: previous file ${f.path} is not inside parquet/`, { path: f.path });
    }
    const inLayout = previousFiles.every((f) => fitsLayout(f, table, layout)) && await samePartitionColumn(dataDir, table, layout);
    if (mode === 'upsert' && input.chunks.length === 0 && previous && inLayout) {
      // Nothing to merge: rewriting would give the same bytes, at the cost of reading the whole table.
      const unchanged: PublishResult = {
        folder: previous.folder, files: previous.files, rows: previous.rows, bytes: previous.bytes, schema: previous.schema, contentHash: previous.contentHash,
        ...(previous.keyRanges ? { keyRanges: previous.keyRanges } : {}), ...(previous.rowSums ? { rowSums: previous.rowSums } : {}),
      };
      return table.partitionBy ? { ...unchanged, touchedPartitions: [] } : unchanged;
    }
    const conn = await this.#instance.connect();
    const temps: string[] = [];
    const progress = { journaled: false };
    try {
      const ctx: WriteContext = {
        conn, connect: () => this.#instance.connect(), dataDir, tableName: table.name, layout, schema: merged.schema, primaryKey: table.primaryKey,
        dedupe: table.syncStrategy !== 'full_refresh',
        chunkPaths, mode, partitionBy: table.partitionBy, granularity: table.partitionGranularity ?? 'month',
        previousFiles: inLayout ? previousFiles : [],
        keyRanges: inLayout ? previous?.keyRanges ?? {} : {},
        rowSums: previous?.rowSums ?? {},
        relayoutFrom: inLayout ? [] : previousFiles,
        schemaChanged: previous !== undefined && !sameColumns(previous.schema, merged.schema),
        temps, memoryLimitBytes: this.#memoryLimitBytes, rowTaps: this.#rowTaps,
      };
      const describing = new Map<string, Promise<DescribedFile>>();
      const ranged = table.partitionBy !== undefined && table.primaryKey.length > 0;
      const describeInput = { connect: () => this.#instance.connect(), table, schema: merged.schema };
      ctx.afterWrite = async (w) => {
        const described = describeWritten(describeInput, w, ranged);
        describing.set(w.tmp, described);
        await described;
      };
      const plan = table.partitionBy ? await writePartitions(ctx) : await writeSingleFile(ctx);
      const result = await commit({ connect: () => this.#instance.connect(), dataDir, table, layout, previousFiles, previousKeyRanges: ctx.keyRanges, previousRowSums: ctx.rowSums, written: plan.written, described: describing, kept: plan.kept, schema: merged.schema, temps, progress, extraFiles: input.extraFiles, schemaChange: merged.change });
      const withRows = ctx.runRows !== undefined ? { ...result, runRows: ctx.runRows } : result;
      return merged.change ? { ...withRows, schemaChange: merged.change } : withRows;
    } catch (err) {
      if (progress.journaled) {
        throw adaError(PUBLISH_INCOMPLETE, `table ${table.name}: publishing stopped after its journal was written (${(err as Error).message}); the next publish of the table or recover() completes it`, { table: table.name }, err);
      }
      await Promise.all(temps.map((t) => rm(t, { force: true })));
      const bytesNeeded = (mode === 'upsert' ? previous?.bytes ?? 0 : 0) + (await Promise.all(chunkPaths.map((c) => stat(c).then((s) => s.size, () => 0)))).reduce((a, b) => a + b, 0);
      const target = path.join(dataDir, table.partitionBy ? layout.partitionDir : layout.singleFile);
      const full = await diskFullError(err, { path: target, bytesNeeded, outcome: `table ${table.name} was not published and its previous version is kept` });
      if (full) throw full;
      if (err instanceof AdaError) throw err;
      throw adaError(PUBLISH_FAILED, `table ${table.name}: publishing failed, the published files were left as they were: ${(err as Error).message}`, { table: table.name }, err);
    } finally {
      await dropRunTables(conn).catch(() => undefined);
      conn.closeSync();
    }
  }
}

interface CommitInput {
  /** Opens a connection (the caller's temp tables are not visible on it); commit closes it. */
  connect: () => Promise<DuckDBConnection>;
  dataDir: string;
  table: TableConfig;
  layout: TableLayout;
  previousFiles: PublishedFile[];
  previousKeyRanges: Record<string, KeyRange>;
  previousRowSums: Record<string, string>;
  written: WrittenFile[];
  /** Written files already described (or being described), by temp path. */
  described?: Map<string, Promise<DescribedFile>>;
  kept: PublishedFile[];
  schema: ColumnSchema[];
  /** Temp files the caller removes on failure. */
  temps: string[];
  /** Set once the journal is durable: from then on the publish is rolled forward, never back. */
  progress: { journaled: boolean };
  extraFiles?: PublishInput['extraFiles'];
  schemaChange?: PublishResult['schemaChange'];
}

/** Describes the new files, drops those identical to what is published, then journals and applies renames, deletions and the manifest. */
async function commit(c: CommitInput): Promise<PublishResult> {
  const previousByPath = new Map(c.previousFiles.map((f) => [f.path, f]));
  const files: PublishedFile[] = [...c.kept];
  const renames: PublishJournal['renames'] = [];
  const changed = new Set<string>();
  const ranged = c.table.partitionBy !== undefined && c.table.primaryKey.length > 0;
  const keyRanges: Record<string, KeyRange> = {};
  const rowSums: Record<string, string> = {};
  for (const f of c.kept) {
    const range = c.previousKeyRanges[f.path];
    if (range) keyRanges[f.path] = range;
    const sum = c.previousRowSums[f.path];
    if (sum !== undefined && f.contentSha !== undefined) rowSums[f.path] = sum;
  }
  // Written files are described DESCRIBE_CONCURRENCY at a time, each on a connection of its own: fsyncs overlap each
  // other and the scans, and the scans of an upsert's few small partitions use every core instead of one after another.
  const described = await mapConcurrently(c.written, DESCRIBE_CONCURRENCY, (w) => c.described?.get(w.tmp) ?? describeWritten(c, w, ranged));
  for (const [i, w] of c.written.entries()) {
    const { rows, sha256, bytes, contentSha, rowSum, range } = described[i]!;
    if (w.partition !== undefined && rows === 0) {
      // Every row of this partition moved to another one: the partition goes.
      await rm(w.tmp, { force: true });
      continue;
    }
    if (range) keyRanges[w.final] = range;
    if (rowSum !== undefined) rowSums[w.final] = rowSum;
    const file: PublishedFile = { path: w.final, rows, bytes, sha256, ...(contentSha ? { contentSha } : {}), ...(w.partition !== undefined ? { partition: w.partition } : {}) };
    const before = previousByPath.get(w.final);
    const sameBytes = before?.sha256 === sha256 && await sizeOf(path.join(c.dataDir, w.final)) === bytes;
    const sameRows = contentSha !== undefined && before?.contentSha === contentSha && await sizeOf(path.join(c.dataDir, w.final)) !== undefined;
    if (sameBytes || sameRows) {
      // Same content as published: keep the old file untouched (mtime included) and report no change. A merge's
      // file is named by its row hash even when its bytes equal a file a replace wrote, as it is when they differ:
      // a replay that folds upserts rewrites a file whatever its bytes, and must arrive at the same content hash.
      files.push(contentSha !== undefined && before!.contentSha === undefined ? { ...before!, contentSha } : before!);
      await rm(w.tmp, { force: true });
      continue;
    }
    files.push(file);
    renames.push({ from: path.relative(c.dataDir, w.tmp).split(path.sep).join('/'), to: w.final });
    if (w.partition !== undefined) changed.add(w.partition);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const finalPaths = new Set(files.map((f) => f.path));
  const deletes = c.previousFiles.filter((f) => !finalPaths.has(f.path));
  for (const f of deletes) if (f.partition !== undefined) changed.add(f.partition);

  const rows = files.reduce((n, f) => n + f.rows, 0);
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const contentHash = computeContentHash(files);
  const partitioned = c.table.partitionBy !== undefined;
  const deletePaths = deletes.map((f) => f.path);
  // Manifests of a layout the table left (partitioning dropped, folder renamed) go with their partition files.
  const manifests = new Set(c.previousFiles.filter((f) => f.partition !== undefined).map((f) => path.posix.join(path.posix.dirname(f.path), MANIFEST_NAME)));
  manifests.add(c.layout.manifest);
  for (const m of manifests) {
    if ((!partitioned || m !== c.layout.manifest) && await exists(path.join(c.dataDir, m))) deletePaths.push(m);
  }

  let manifest: PublishJournal['manifest'];
  if (partitioned) {
    const content = `${JSON.stringify(buildManifest(c, files, rows, bytes, contentHash), null, 2)}\n`;
    const current = await readFile(path.join(c.dataDir, c.layout.manifest), 'utf8').catch(() => undefined);
    if (current !== content) manifest = { path: c.layout.manifest, content };
  }
  const base: PublishResult = {
    folder: c.table.folder, files, rows, bytes, schema: c.schema, contentHash, ...(ranged ? { keyRanges } : {}),
    ...(Object.keys(rowSums).length > 0 ? { rowSums } : {}),
  };
  const published: PublishResult = { ...(partitioned ? { ...base, touchedPartitions: [...changed].sort() } : base), ...(c.schemaChange ? { schemaChange: c.schemaChange } : {}) };
  const extras = c.extraFiles?.(published) ?? [];
  if (renames.length > 0 || deletePaths.length > 0 || manifest || extras.length > 0) {
    const journal: PublishJournal = { v: 1, table: c.table.name, renames, deletes: deletePaths, ...(manifest ? { manifest } : {}), ...(extras.length ? { extras } : {}) };
    if (manifest) await mkdir(path.join(c.dataDir, c.layout.partitionDir), { recursive: true });
    await writeJournal(c.dataDir, c.layout.journal, journal);
    c.progress.journaled = true;
    await applyJournal(c.dataDir, c.layout.journal, journal);
  }
  return published;
}

/**
 * sha256 over the sorted `path:hash` lines of all files, where a file's hash is its row hash when it has one
 * (merges) and its byte hash otherwise: equal for equal published content, whatever the history.
 */
export function computeContentHash(files: Array<Pick<PublishedFile, 'path' | 'sha256' | 'contentSha'>>): string {
  const lines = files.map((f) => `${f.path}:${f.contentSha ?? f.sha256}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Files described at once: enough for every core and the disk, few enough for a 60-partition export's connections. */
const DESCRIBE_CONCURRENCY = 4;

/** What commit needs of a written file: rows, byte hash and size, row hash and its sum (merges), key range (when ranged). */
interface DescribedFile {
  rows: number;
  sha256: string;
  bytes: number;
  contentSha?: string;
  /** The sum of the rows' DuckDB hashes behind `contentSha`, decimal. */
  rowSum?: string;
  range?: KeyRange;
}

/**
 * Describes one written file on a connection of its own. A file hashed while written is fsynced while DuckDB scans
 * it once for whatever is still unknown: its row hash (a merge whose rows were not summed while written, or whose
 * sum does not cover the footer's row count) and its key range; a hard-linked blob is durable and its name is its hash.
 */
async function describeWritten(c: Pick<CommitInput, 'connect' | 'table' | 'schema'>, w: WrittenFile, ranged: boolean): Promise<DescribedFile> {
  const conn = await c.connect();
  try {
    const rows = await parquetRowCount(conn, w.tmp);
    // A merged partition whose range was derived (see WrittenFile.keyRange) is not scanned for it.
    const keys = ranged && !w.keyRange ? c.table.primaryKey : [];
    if (w.blobSha256) {
      const range = keys.length > 0 ? (await scanRows(conn, w.tmp, c.schema, false, keys)).range : undefined;
      return { rows, sha256: w.blobSha256, bytes: (await stat(w.tmp)).size, ...(range ? { range } : {}) };
    }
    const tapped = w.merged && w.rowSum?.rows === rows ? { contentSha: rowContentSha(String(rows), w.rowSum.sum.toString(), c.schema), rowSum: w.rowSum.sum.toString() } : undefined;
    const hashRows = w.merged === true && tapped === undefined;
    const [, { sha256, bytes }, scanned] = await Promise.all([
      fsyncFile(w.tmp), w.digest ?? hashFile(w.tmp),
      hashRows || keys.length > 0 ? scanRows(conn, w.tmp, c.schema, hashRows, keys) : {},
    ]);
    return { rows, sha256, bytes, ...scanned, ...tapped, ...(ranged && w.keyRange ? { range: w.keyRange } : {}) };
  } finally {
    conn.closeSync();
  }
}

/**
 * One scan of a written file for its row hash (when `hashRows`) and the key range of `primaryKey` (when not empty).
 *
 * The row hash is order-independent: row count, the sum of DuckDB's row hashes (a sum, not a xor, so duplicate rows
 * count) and the schema. A single-file merge sums them while DuckDB writes it (row-hash-tap.ts) and needs no scan; a
 * scan of the whole file costs a second decode of every row (about a fifth of a 5M-row upsert's CPU). It depends on
 * the rows only, not on the history that made them, so a replay that folds many upserts into one merge (fold-runs.ts)
 * arrives at the content hash the live syncs recorded; an identity taken from a merge's inputs would not, since the
 * folded merge has other inputs than the last live one.
 *
 * The key range is undefined for an empty file or when a key column holds NULL (a NULL key matches only a NULL key,
 * which a range cannot say).
 */
async function scanRows(conn: DuckDBConnection, file: string, schema: ColumnSchema[], hashRows: boolean, primaryKey: string[]): Promise<{ contentSha?: string; rowSum?: string; range?: KeyRange }> {
  const aggregates = [
    ...(hashRows ? ['count(*)::VARCHAR', 'coalesce(sum(hash(r)), 0)::VARCHAR'] : []),
    ...keyRangeAggregates(primaryKey, 'r'),
  ];
  const row = (await conn.runAndReadAll(`SELECT ${aggregates.join(', ')} FROM read_parquet(${quoteLiteral(file)}) r`)).getRowsJson()[0] ?? [];
  const hashed = hashRows ? { contentSha: rowContentSha(String(row[0]), String(row[1]), schema), rowSum: String(row[1]) } : {};
  const range = primaryKey.length > 0 ? keyRangeFrom(row.slice(hashRows ? 2 : 0), schema, primaryKey) : undefined;
  return { ...hashed, ...(range ? { range } : {}) };
}

function buildManifest(c: CommitInput, files: PublishedFile[], rows: number, bytes: number, contentHash: string): PartitionManifest {
  return {
    v: 1,
    table: c.table.name,
    partitionBy: c.table.partitionBy ?? '',
    granularity: c.table.partitionGranularity ?? 'month',
    schema: c.schema,
    files: files.map((f) => ({ partition: f.partition ?? '', file: path.posix.relative(c.layout.partitionDir, f.path), rows: f.rows, bytes: f.bytes, sha256: f.sha256 })),
    rows,
    bytes,
    contentHash,
  };
}

/** True when a previous file is where the table's current configuration would put it (else the table is re-laid out). */
function fitsLayout(f: PublishedFile, table: TableConfig, layout: TableLayout): boolean {
  if (!table.partitionBy) return f.partition === undefined && f.path === layout.singleFile;
  return f.partition !== undefined && isPartitionKey(f.partition, table.partitionGranularity ?? 'month') && f.path === partitionFile(layout, f.partition);
}

/** False when the manifest says the partitions were keyed by another column: then the table is re-laid out. */
async function samePartitionColumn(dataDir: string, table: TableConfig, layout: TableLayout): Promise<boolean> {
  if (!table.partitionBy) return true;
  try {
    const manifest = JSON.parse(await readFile(path.join(dataDir, layout.manifest), 'utf8')) as Partial<PartitionManifest>;
    return manifest.partitionBy === undefined || manifest.partitionBy === table.partitionBy;
  } catch {
    return true;
  }
}

function checkColumns(table: TableConfig, schema: ColumnSchema[], mode: 'replace' | 'upsert'): void {
  if (schema.length === 0) {
    throw adaError(ErrorCode.badArgument, `table ${table.name}: no columns to publish (the chunks declare none and the table lists no columns)`, { table: table.name });
  }
  const names = new Set(schema.map((c) => c.name));
  const missingKey = mode === 'upsert' ? table.primaryKey.filter((k) => !names.has(k)) : [];
  if (missingKey.length > 0) {
    throw adaError(ErrorCode.badArgument, `table ${table.name}: primary key column ${missingKey.join(', ')} is not among the columns ${[...names].join(', ')}`, { table: table.name, missing: missingKey });
  }
  if (table.partitionBy && !names.has(table.partitionBy)) {
    throw adaError(PipelineErrorCode.partitionColumnInvalid, `table ${table.name}: partition column ${table.partitionBy} is not among the columns ${[...names].join(', ')}`, { table: table.name, column: table.partitionBy });
  }
}

function sameColumns(a: ColumnSchema[], b: ColumnSchema[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]?.name && normaliseDuckType(c.type) === b[i]?.type);
}

async function assertChunksExist(table: string, paths: string[]): Promise<void> {
  for (const p of paths) {
    if (!await exists(p)) throw adaError(ErrorCode.blobMissing, `table ${table}: staged chunk ${p} does not exist`, { table, path: p });
  }
}

function assertAbsolute(dataDir: string): void {
  if (typeof dataDir !== 'string' || !path.isAbsolute(dataDir)) throw adaError(ErrorCode.badArgument, `dataDir must be an absolute path, got ${String(dataDir)}`);
}

const BYTE_UNITS: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40,
};

/** Parses a DuckDB size such as `1GB` or `512 MiB` into bytes (KB/MB/GB are powers of 1000 as in DuckDB); undefined when it cannot. */
export function parseByteSize(size: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(size);
  if (!m) return undefined;
  const unit = BYTE_UNITS[(m[2] || 'B').toUpperCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

async function sizeOf(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).size;
  } catch {
    return undefined;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
