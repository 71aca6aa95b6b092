/**
 * Writes a table's new Parquet files as temp files with DuckDB SQL: the single-file and partitioned variants of
 * replace and upsert. Nothing here renames or deletes published files; publish.ts commits the temp files.
 *
 * Determinism: DuckDB writes byte-identical Parquet for the same rows in the same order and row groups, whatever the
 * thread count, when the query is a plain scan (files in list order) or ends in an ORDER BY over a total order. Joins
 * and filters under several threads reorder rows and move row-group boundaries, so every query here that joins or
 * filters ends in an ORDER BY whose keys are unique per row: the primary key, then ORD (see ordExpr).
 */
import { copyFile, link, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PartitionGranularity } from '../../../config/index.ts';
import type { ColumnSchema, PublishedFile, StoredBlob } from '../../../events/index.ts';
import { hashWhileWritten } from '../../hash-while-written.ts';
import { PARQUET_COPY_OPTIONS, V2_COPY_OPTIONS } from '../../sql/parquet-options.ts';
import { quoteIdentifier as q, quoteLiteral as lit } from '../../sql/where-filters.ts';
import { tempPathFor } from './atomic-files.ts';
import { partitionFilterSql, partitionKeySql } from './partition-key.ts';
import { rowContentSha } from './row-hash-tap.ts';
import type { OpenTap, RowHashTaps, RowSum } from './row-hash-tap.ts';
import { partitionFile } from './table-layout.ts';
import type { TableLayout } from './table-layout.ts';

/** Helper columns; schema-merge.ts refuses source columns with this prefix. */
const ORD = '__ada_ord';
const PART = '__ada_part';
/** Marks the old rows a run's row replaces (see mergeBody). */
const HIT = '__ada_hit';
/** The run's rows: a table of the in-memory database (not a temp table) so every connection sees it; dropped by dropRunTables. */
const NEW_TABLE = '__ada_new';
/** The run's rows as a view over the chunks (see createNewRows); like NEW_TABLE, seen by every connection. */
const NEW_VIEW = '__ada_new_view';
const ROWS_TABLE = '__ada_rows';

/** A temp file written for a final path, not yet described or renamed. */
export interface WrittenFile {
  /** Final path, relative to the data directory. */
  final: string;
  /** Absolute temp path next to the final path. */
  tmp: string;
  partition?: string;
  /** Set when the temp file is a hard link of a content-addressed blob: its hash is known and it is already durable. */
  blobSha256?: string;
  /** Set for merges, whose row order (so whose bytes) varies from run to run: hashed by content instead. */
  merged?: boolean;
  /** The file's sha256 and size, hashed while DuckDB wrote it. */
  digest?: StoredBlob;
  /**
   * A merge's rows and the sum of their row hashes, taken while DuckDB wrote it (see row-hash-tap.ts), or derived
   * from the old file's recorded sum (see copyMerge).
   */
  rowSum?: RowSum;
  /**
   * A merged partition's key range derived without a scan: the old file's recorded range joined with the range of the
   * run's rows in the partition. A superset of the file's keys (rows that moved out still count), which is all its use
   * needs: ruling the file out before a later upsert reads its keys (see partitionsHoldingNewKeys).
   */
  keyRange?: KeyRange;
}

/** What a writer produced: new temp files, and previous files that stay as they are; every other previous file goes. */
export interface WritePlan {
  written: WrittenFile[];
  kept: PublishedFile[];
}

/** Everything a writer needs about one publish. */
export interface WriteContext {
  conn: DuckDBConnection;
  /** Opens another connection to the same database, for work done concurrently (the caller closes it). */
  connect: () => Promise<DuckDBConnection>;
  dataDir: string;
  tableName: string;
  layout: TableLayout;
  schema: ColumnSchema[];
  primaryKey: string[];
  /** Keep one row per primary key within the run even on a replace (incremental tables): the last in file order wins. */
  dedupe: boolean;
  chunkPaths: string[];
  mode: 'replace' | 'upsert';
  partitionBy?: string;
  granularity: PartitionGranularity;
  /** Previous files, when they are in this layout; all previous files are in `relayoutFrom` otherwise. */
  previousFiles: PublishedFile[];
  /** Key ranges of the previous files, by path (see PublishedTable.keyRanges). */
  keyRanges: Record<string, KeyRange>;
  /** Sums of the row hashes of the previous files, by path (see PublishedTable.rowSums). */
  rowSums: Record<string, string>;
  /** Previous files in another layout (folder, partitioning changed): read as old rows, then deleted. */
  relayoutFrom: PublishedFile[];
  /** True when the published schema differs from the previous one, so untouched partitions need rewriting too. */
  schemaChanged: boolean;
  /** Every temp path created, so the caller can remove them on failure. */
  temps: string[];
  /** DuckDB's memory limit in bytes, to size the groups of a partition split. */
  memoryLimitBytes: number;
  /** Called with each file writePartitions merged, once it is written (see publish.ts: the file is described then). */
  afterWrite?: (out: WrittenFile) => Promise<void>;
  /** Row-hash taps of the instance; without them a merged file's rows are hashed by a scan of the file. */
  rowTaps?: RowHashTaps;
  /** Set when the run's rows were deduplicated by key: how many remain. */
  runRows?: number;
  /**
   * Key range of the run's rows per partition key (null when a key column holds NULL there), read with the partition
   * counts; a partition without run rows is absent. With deduplication, a superset (rows of the run that lost to a
   * later row of their key count too).
   */
  freshRanges?: Map<string, KeyRange | null>;
  /** Set by runKeys. */
  runKeys?: { distinct: number; repeated: boolean };
  /** Set by chunkColumns. */
  chunkColumns?: Set<string>;
  /** The relation holding the run's rows, set by createNewRows: NEW_TABLE or NEW_VIEW. */
  newRows?: string;
}

/**
 * The smallest and largest value of each primary key column of one file, as DuckDB text, with the column's type when
 * it was taken: a file whose range holds none of a run's keys holds none of its rows.
 */
export type KeyRange = Array<{ column: string; type: string; min: string; max: string }>;

/** Writes a table without `partitionBy`: one file. */
export async function writeSingleFile(ctx: WriteContext): Promise<WritePlan> {
  const out = newTemp(ctx, ctx.layout.singleFile);
  const oldFiles = ctx.mode === 'upsert' ? [...ctx.previousFiles, ...ctx.relayoutFrom] : [];
  if (ctx.mode === 'replace' && await hasDuplicateKeys(ctx)) {
    await createNewRows(ctx, false);
    out.digest = await copyTo(`SELECT ${columnList(ctx)} FROM ${newRows(ctx)} ORDER BY ${ORD}`, out.tmp, ctx.conn);
  } else if (ctx.mode === 'replace' || (oldFiles.length === 0 && ctx.primaryKey.length === 0)) {
    await writeChunksAsIs(ctx, out);
  } else {
    await createNewRows(ctx, false);
    await copyMerge(ctx, out, ctx.conn, oldFiles, `SELECT * FROM ${newRows(ctx)}`);
  }
  return { written: [out], kept: [] };
}

/**
 * Writes the merge of `oldFiles` (none on a first publish) with the rows of `fresh` to `out`, with the sum of its
 * rows' hashes when the instance has taps (row-hash-tap.ts).
 *
 * When every old file's sum is recorded (see recordedSum), the sum is derived: the old files' sum, minus the old rows
 * the merge drops, plus the fresh rows, each set summed by a tap of its own as DuckDB writes the merge. The sums are
 * exact integers, so this is the sum DuckDB's hash of every written row gives, for the hashes of the few rows the run
 * replaces and adds (a 100k-row run onto 5M rows: DuckDB hashes 150k rows instead of 5.05M, and the taps' calls into
 * JavaScript fall from about 2,500 to about 75, since the dropped rows leave the join in full vectors). Otherwise
 * (a first publish, a file a replace wrote, a schema that changed, a state written before sums were recorded) every
 * written row is tapped. Either way the caller checks the row count against the file's footer.
 */
async function copyMerge(ctx: WriteContext, out: WrittenFile, conn: DuckDBConnection, oldFiles: PublishedFile[], fresh: string): Promise<void> {
  const base = recordedSum(ctx, oldFiles);
  const old = oldFiles.length > 0 ? await oldRows(ctx, oldFiles, conn) : undefined;
  const taps = ctx.rowTaps ? (base ? { dropped: ctx.rowTaps.open(), added: ctx.rowTaps.open() } : { all: ctx.rowTaps.open() }) : undefined;
  const sums: Partial<Record<'all' | 'dropped' | 'added', RowSum>> = {};
  try {
    out.digest = await copyTo(mergeSql(ctx, old, fresh, taps), out.tmp, conn, V2_COPY_OPTIONS);
  } finally {
    for (const [name, tap] of Object.entries(taps ?? {}) as Array<['all' | 'dropped' | 'added', OpenTap]>) sums[name] = tap.close();
  }
  out.merged = true;
  if (sums.all) out.rowSum = sums.all;
  else if (base && sums.dropped && sums.added) {
    out.rowSum = { rows: base.rows - sums.dropped.rows + sums.added.rows, sum: base.sum - sums.dropped.sum + sums.added.sum };
  }
}

/**
 * The rows and row-hash sum of `files` together, when each file's sum is recorded and still names it: the file's
 * `contentSha` is the row hash of its footer's row count, that sum and the schema being written now. So a sum recorded
 * for other rows, or under another schema (a column added or retyped changes every row's hash), is not used.
 */
function recordedSum(ctx: WriteContext, files: PublishedFile[]): RowSum | undefined {
  if (files.length === 0) return undefined;
  let rows = 0;
  let sum = 0n;
  for (const f of files) {
    const recorded = ctx.rowSums[f.path];
    if (recorded === undefined || f.contentSha === undefined || !/^\d+$/.test(recorded)) return undefined;
    if (rowContentSha(String(f.rows), recorded, ctx.schema) !== f.contentSha) return undefined;
    rows += f.rows;
    sum += BigInt(recorded);
  }
  return { rows, sum };
}

/** Writes a partitioned table: all partitions on replace (or a layout change), only touched ones on upsert. */
export async function writePartitions(ctx: WriteContext): Promise<WritePlan> {
  if (ctx.mode === 'replace') {
    const rows = newRowsSql(ctx, await chunkColumns(ctx));
    const source = await hasDuplicateKeys(ctx) ? latestPerKey(ctx, rows) : rows;
    return { written: await writeAllPartitions(ctx, source, [ORD], ctx.chunkPaths), kept: [] };
  }
  const parts = await createNewRows(ctx, true);
  if (ctx.relayoutFrom.length > 0) {
    const merged = mergeBody(ctx, await oldRows(ctx, ctx.relayoutFrom), `SELECT * EXCLUDE (${PART}) FROM ${newRows(ctx)}`);
    const estimateFrom = [...ctx.chunkPaths, ...ctx.relayoutFrom.map((f) => abs(ctx, f.path))];
    return { written: await writeAllPartitions(ctx, merged, mergeOrder(ctx), estimateFrom), kept: [] };
  }

  const previous = new Map(ctx.previousFiles.map((f) => [f.partition ?? '', f]));
  const touched = new Set(parts ?? await distinctParts(ctx, newRows(ctx)));
  for (const key of await partitionsHoldingNewKeys(ctx, [...previous.values()].filter((f) => !touched.has(f.partition ?? '')))) touched.add(key);

  const kept: PublishedFile[] = [];
  const jobs: Array<{ out: WrittenFile; merge?: { old: PublishedFile[]; fresh: string }; select?: (conn: DuckDBConnection) => Promise<string>; range?: (conn: DuckDBConnection) => Promise<KeyRange | undefined> }> = [];
  const keys = [...new Set([...previous.keys(), ...touched])].sort();
  for (const key of keys) {
    const old = previous.get(key);
    if (touched.has(key)) {
      const fresh = `SELECT * EXCLUDE (${PART}) FROM ${newRows(ctx)} WHERE ${ctx.newRows === NEW_VIEW ? partitionFilter(ctx, key) : `${PART} = ${lit(key)}`}`;
      jobs.push({
        out: newTemp(ctx, partitionFile(ctx.layout, key), key),
        merge: { old: old ? [old] : [], fresh },
        range: (conn) => mergedKeyRange(ctx, conn, key, old),
      });
    } else if (old && ctx.schemaChanged) {
      // Every partition must have the same schema so a glob reads without union_by_name.
      jobs.push({ out: newTemp(ctx, partitionFile(ctx.layout, key), key), select: async (conn) => `SELECT ${columnList(ctx)} FROM (${await oldRows(ctx, [old], conn)}) ORDER BY ${ORD}` });
    } else if (old) {
      kept.push(old);
    }
  }
  // Partitions are written PARTITION_CONCURRENCY at a time, each on a connection of its own: a partition's merge is
  // too small to keep every core busy (a 100k-row delta touches two of about 100k rows each). Each is described
  // (afterWrite) as soon as it is written, next to the merge of another partition rather than after all of them.
  const written = await mapConcurrently(jobs, PARTITION_CONCURRENCY, async ({ out, merge, select, range }) => {
    const conn = await ctx.connect();
    try {
      const keyRange = await range?.(conn);
      if (keyRange) out.keyRange = keyRange;
      if (merge) await copyMerge(ctx, out, conn, merge.old, merge.fresh);
      else if (select) out.digest = await copyTo(await select(conn), out.tmp, conn);
    } finally {
      conn.closeSync();
    }
    await ctx.afterWrite?.(out);
    return out;
  });
  return { written, kept };
}

/**
 * The full-refresh path. One chunk already in the published schema is copied byte for byte (no re-encoding: the
 * benchmark's bare COPY is the bar); anything else is one COPY of a scan over all chunks, which keeps their order.
 */
async function writeChunksAsIs(ctx: WriteContext, out: WrittenFile): Promise<void> {
  const tmp = out.tmp;
  const [only] = ctx.chunkPaths;
  if (ctx.chunkPaths.length === 1 && only !== undefined && await hasExactSchema(ctx, only)) {
    await mkdir(path.dirname(tmp), { recursive: true });
    const sha = path.basename(only);
    if (/^[0-9a-f]{64}$/.test(sha)) {
      // A blob of the content-addressed store (written once, never modified): publish it by hard link,
      // no copy, no re-hash. Another filesystem falls back to a copy.
      try {
        await link(only, tmp);
        out.blobSha256 = sha;
        return;
      } catch (err) {
        if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      }
    }
    await copyFile(only, tmp, constants.COPYFILE_EXCL);
    return;
  }
  const cols = await chunkColumns(ctx);
  const select = ctx.chunkPaths.length === 0 ? `SELECT ${castList(ctx.schema, new Set(), 'c')} WHERE false`
    : `SELECT ${castList(ctx.schema, cols, 'c')} FROM read_parquet(${fileList(ctx.chunkPaths)}, union_by_name = true) c`;
  out.digest = await copyTo(select, tmp, ctx.conn);
}

/**
 * The upsert query: old rows whose key is not among the new rows (an anti join; IS NOT DISTINCT FROM so a NULL key is
 * a key like any other) plus the new rows. Without a primary key: old rows, then new rows.
 *
 * The merge, without a sort and with every thread: its row order varies from run to run, so a merged file is
 * identified by a hash of its rows (see scanRows in publish.ts), not by its bytes; with taps, the query sums them as
 * it writes them (see row-hash-tap.ts): `all` every written row, or `dropped` the old rows the new ones replace and
 * `added` the new rows (see copyMerge).
 * Ordering millions of rows by key, or writing with one thread, would make the bytes reproducible at two to three
 * times the cost.
 */
function mergeSql(ctx: WriteContext, old: string | undefined, fresh: string, taps?: { all?: OpenTap; dropped?: OpenTap; added?: OpenTap }): string {
  const names = ctx.schema.map((c) => c.name);
  const columns = taps?.all ? [taps.all.wrap(names[0]!, names), ...names.slice(1).map(q)].join(', ') : columnList(ctx);
  const added = taps?.added ? `SELECT * REPLACE (CASE WHEN ${taps.added.call(names, 'f')} THEN f.${q(names[0]!)} END AS ${q(names[0]!)}) FROM (${fresh}) f` : fresh;
  return `SELECT ${columns} FROM (${mergeBody(ctx, old, added, taps?.dropped)})`;
}

/**
 * The merge's rows. With `dropped`, the old side is a left join instead of the anti join, whose filter drops a matched
 * row only through the tap (always true, negated), so the tap sees exactly the dropped rows: a CASE evaluates its ELSE
 * on the rows no WHEN took, and the join hands those over in full vectors of matches. The run's rows are one per key
 * (createNewRows), so an old row meets at most one; were one met twice, the tap's row count would not add up to the
 * footer's and the file would be scanned.
 */
function mergeBody(ctx: WriteContext, old: string | undefined, fresh: string, dropped?: OpenTap): string {
  if (old === undefined) return fresh;
  let oldSide = old;
  if (ctx.primaryKey.length > 0 && dropped) {
    const names = ctx.schema.map((c) => c.name);
    oldSide = `SELECT o.* FROM (${old}) o LEFT JOIN (SELECT ${ctx.primaryKey.map(q).join(', ')}, true AS ${HIT} FROM ${newRows(ctx)}) n ON ${keyMatch(ctx, 'o', 'n')}
      WHERE CASE WHEN n.${HIT} IS NULL THEN true ELSE NOT ${dropped.call(names, 'o')} END`;
  } else if (ctx.primaryKey.length > 0) {
    oldSide = `SELECT o.* FROM (${old}) o ANTI JOIN ${newRows(ctx)} n ON ${keyMatch(ctx, 'o', 'n')}`;
  }
  return `${oldSide} UNION ALL BY NAME ${fresh}`;
}

/**
 * A total order of merged rows. New keys are unique after deduplication and no surviving old row shares one, so
 * only old rows can tie on the key (a table loaded by replace may hold duplicates); ORD breaks those ties.
 * One packed BIGINT rather than three columns: a narrower sort key made the 5M-row upsert ~15 % faster.
 */
function mergeOrder(ctx: WriteContext): string[] {
  return [...ctx.primaryKey.map(q), ORD];
}

/**
 * The packed order key: source (0 published rows, 1 new rows) in bit 61, file index in bits 40-60, row number in
 * the file in bits 0-39. Limits: 2^21 files per read (a run has far fewer chunks) and 2^40 rows per file.
 */
function ordExpr(alias: string, source: 0 | 1): string {
  return `((${source}::BIGINT << 61) + (${alias}.file_index::BIGINT << 40) + ${alias}.file_row_number)`;
}

/**
 * Makes the run's rows cast to the published schema available to every connection; with a primary key only the
 * latest row per key (later chunk, then later row wins), materialised in ORD order.
 *
 * A run without a repeated key, the usual case, is not materialised but a view over the chunks, a plain scan in ORD
 * order: DuckDB's table storage cost more than the few reads of the view (a merge reads the chunks' keys for its anti
 * join, then their rows; a partitioned one reads the touched partitions first): a 100k-row run took 50–80 ms of CPU to
 * store, a scan of its chunk 5–15 ms.
 */
async function createNewRows(ctx: WriteContext, withPartition: boolean): Promise<string[] | undefined> {
  let select = newRowsSql(ctx, await chunkColumns(ctx));
  if (withPartition) select = `SELECT *, ${partitionExpr(ctx)} AS ${PART} FROM (${select})`;
  // The run's partitions are read next to the check for repeated keys, on a connection of their own (both scan the
  // chunks); they are those of the rows kept when no key repeats.
  const counting = withPartition ? partitionCounts(ctx, select) : undefined;
  counting?.catch(() => undefined);
  const keys = await runKeys(ctx).catch(async (err: unknown) => {
    await counting?.catch(() => undefined);
    throw err;
  });
  const dedup = keys?.repeated === true;
  // The rows kept: one per key.
  if (keys) ctx.runRows = keys.distinct;
  await dropRunTables(ctx.conn);
  ctx.newRows = dedup ? NEW_TABLE : NEW_VIEW;
  if (ctx.newRows === NEW_VIEW) {
    await ctx.conn.run(`CREATE VIEW ${NEW_VIEW} AS ${select}`);
    const counts = await counting;
    keepFreshRanges(ctx, counts);
    return counts?.map((c) => c.key);
  }
  keepFreshRanges(ctx, await counting?.catch(() => undefined));
  // Stored in ORD order (a total order of the run's rows), which a single-threaded scan then reads back as is.
  await ctx.conn.run(`CREATE TABLE ${NEW_TABLE} AS ${latestPerKey(ctx, select)} ORDER BY ${ORD}`);
  return undefined;
}

/** The partition keys of `select` (which has PART), sorted, with their row counts and key ranges; on a connection of its own. */
async function partitionCounts(ctx: WriteContext, select: string): Promise<Array<{ key: string; rows: number; range: KeyRange | null }>> {
  const conn = await ctx.connect();
  try {
    const aggregates = [`${PART}`, 'count(*)', ...keyRangeAggregates(ctx.primaryKey)].join(', ');
    const rows = (await conn.runAndReadAll(`SELECT ${aggregates} FROM (${select}) GROUP BY ${PART} ORDER BY 1`)).getRowsJson();
    return rows.map((r) => ({ key: String(r[0]), rows: Number(r[1]), range: keyRangeFrom(r.slice(2), ctx.schema, ctx.primaryKey) ?? null }));
  } finally {
    conn.closeSync();
  }
}

/** Keeps the run's key range per partition (see WriteContext.freshRanges). */
function keepFreshRanges(ctx: WriteContext, counts: Array<{ key: string; range: KeyRange | null }> | undefined): void {
  if (counts && ctx.primaryKey.length > 0) ctx.freshRanges = new Map(counts.map((c) => [c.key, c.range]));
}

/**
 * The key range of a merged partition without reading it (see WrittenFile.keyRange): its old file's recorded range
 * joined with the run's range in the partition, per key column. Undefined, so the written file is scanned for it, when
 * either side is unknown (a NULL key, a range of another key or type, a state that recorded none).
 */
async function mergedKeyRange(ctx: WriteContext, conn: DuckDBConnection, key: string, old: PublishedFile | undefined): Promise<KeyRange | undefined> {
  if (ctx.primaryKey.length === 0 || !ctx.freshRanges) return undefined;
  const fresh = ctx.freshRanges.get(key);
  const before = old ? ctx.keyRanges[old.path] : undefined;
  if (fresh === null || (old && !(before && rangeFits(ctx, before)))) return undefined;
  if (!fresh || !before) return fresh ?? before;
  const bounds = fresh.map((c, j) => {
    const cast = (v: string): string => `CAST(${lit(v)} AS ${c.type})`;
    return `least(${cast(c.min)}, ${cast(before[j]!.min)})::VARCHAR, greatest(${cast(c.max)}, ${cast(before[j]!.max)})::VARCHAR, 0`;
  });
  const row = (await conn.runAndReadAll(`SELECT ${bounds.join(', ')}`)).getRowsJson()[0] ?? [];
  return keyRangeFrom(row, ctx.schema, ctx.primaryKey);
}

/**
 * True when a run to deduplicate holds a primary key twice. One aggregate over the key columns (it spills under the
 * memory limit): a run without duplicates, the usual case, keeps the plain copy (and the blob hard link).
 */
async function hasDuplicateKeys(ctx: WriteContext): Promise<boolean> {
  return ctx.dedupe && (await runKeys(ctx))?.repeated === true;
}

/**
 * The run's distinct primary keys and whether one repeats, from one aggregate over the chunks' key columns (kept on
 * `ctx`: the replace path and createNewRows both ask); undefined without a primary key. With no repeat, the distinct
 * keys are the run's rows, so no count of them follows.
 */
async function runKeys(ctx: WriteContext): Promise<{ distinct: number; repeated: boolean } | undefined> {
  if (ctx.primaryKey.length === 0) return undefined;
  if (ctx.chunkPaths.length === 0) return { distinct: 0, repeated: false };
  if (!ctx.runKeys) {
    const types = new Map(ctx.schema.map((c) => [c.name, c.type]));
    const cols = await chunkColumns(ctx);
    const keys = ctx.primaryKey.map((k) => `CAST(${cols.has(k) ? `c.${q(k)}` : 'NULL'} AS ${types.get(k) ?? 'VARCHAR'})`).join(', ');
    const [distinct, most] = (await ctx.conn.runAndReadAll(`SELECT count(*), coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM read_parquet(${fileList(ctx.chunkPaths)}, union_by_name = true) c GROUP BY ${keys})`)).getRowsJson()[0] ?? [];
    ctx.runKeys = { distinct: Number(distinct ?? 0), repeated: Number(most ?? 0) > 1 };
  }
  return ctx.runKeys;
}

/**
 * The rows of `select` that are the last of their primary key in the run (later chunk, then later row): those whose
 * ORD, unique per row, is the largest of their key (GROUP BY puts NULL keys together, as a key like any other). An
 * aggregate by key and a semi join on one BIGINT: a window partitioned by key and ordered by ORD took about a third
 * more CPU on a 990k-row folded replay delta, for the same rows.
 */
function latestPerKey(ctx: WriteContext, select: string): string {
  return `SELECT s.* FROM (${select}) s SEMI JOIN (SELECT max(${ORD}) AS last FROM (${select}) GROUP BY ${ctx.primaryKey.map(q).join(', ')}) k ON s.${ORD} = k.last`;
}

/**
 * Writes every partition of `source`. Partitions are handled a group at a time: the group's rows are materialised
 * sorted by partition (so each partition's filter reads few row groups), then each partition is copied out. Groups
 * hold an estimated 1/GROUP_MEMORY_SHARE of the memory limit, so a full export needs memory for a group, not for the
 * table; each group costs one more scan of the source.
 */
async function writeAllPartitions(ctx: WriteContext, source: string, order: string[], estimateFrom: string[]): Promise<WrittenFile[]> {
  const keyed = `SELECT *, ${partitionExpr(ctx)} AS ${PART} FROM (${source})`;
  const counts = (await ctx.conn.runAndReadAll(`SELECT ${PART}, count(*) FROM (${keyed}) GROUP BY ALL ORDER BY 1`)).getRowsJson()
    .map((r) => ({ key: String(r[0]), rows: Number(r[1]) }));
  const groupRows = Math.max(MIN_GROUP_ROWS, Math.floor(ctx.memoryLimitBytes / GROUP_MEMORY_SHARE / await rowBytes(ctx, estimateFrom)));
  const written: WrittenFile[] = [];
  for (const group of groupConsecutive(counts, groupRows)) {
    const first = lit(group[0] ?? ''), last = lit(group[group.length - 1] ?? '');
    await ctx.conn.run(`CREATE OR REPLACE TEMP TABLE ${ROWS_TABLE} AS SELECT * FROM (${keyed}) WHERE ${PART} BETWEEN ${first} AND ${last} ORDER BY ${PART}, ${order.join(', ')}`);
    for (const key of group) {
      const out = newTemp(ctx, partitionFile(ctx.layout, key), key);
      out.digest = await copyTo(`SELECT ${columnList(ctx)} FROM ${ROWS_TABLE} WHERE ${PART} = ${lit(key)} ORDER BY ${order.join(', ')}`, out.tmp, ctx.conn);
      written.push(out);
    }
  }
  await ctx.conn.run(`DROP TABLE IF EXISTS ${ROWS_TABLE}`);
  return written;
}

/** Partitions of an upsert written at once (see writePartitions). */
const PARTITION_CONCURRENCY = 2;

/** `fn` over `items`, at most `limit` at a time; results in the order of `items`. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Drops the run's rows (a table or view every connection sees, so it outlives the connection that made it). */
export async function dropRunTables(conn: DuckDBConnection): Promise<void> {
  await conn.run(`DROP TABLE IF EXISTS ${NEW_TABLE}`);
  await conn.run(`DROP VIEW IF EXISTS ${NEW_VIEW}`);
}

/** The relation holding the run's rows (see createNewRows). */
function newRows(ctx: WriteContext): string {
  return ctx.newRows ?? NEW_TABLE;
}

/**
 * Measured on a 5M-row, 8-column, 60-month export under a 1 GB limit: one group (the whole table) peaked at 1.3 GB RSS,
 * two groups (a twelfth) at ~1.0 GB, four groups (a 24th) at ~0.6 GB, for ~10 % more time than one.
 */
const GROUP_MEMORY_SHARE = 24;
/** Below this a group is not worth another scan of the source. */
const MIN_GROUP_ROWS = 100_000;

/** Splits sorted partition keys into runs of consecutive keys holding at most `limit` rows (a bigger partition is a group of its own). */
function groupConsecutive(counts: Array<{ key: string; rows: number }>, limit: number): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let rows = 0;
  for (const c of counts) {
    if (current.length > 0 && rows + c.rows > limit) {
      groups.push(current);
      current = [];
      rows = 0;
    }
    current.push(c.key);
    rows += c.rows;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Average uncompressed bytes per row of Parquet files, from their footers (1 when unknown). */
async function rowBytes(ctx: WriteContext, files: string[]): Promise<number> {
  if (files.length === 0) return 1;
  const list = fileList(files);
  const [bytes] = (await ctx.conn.runAndReadAll(`SELECT sum(total_uncompressed_size) FROM parquet_metadata(${list})`)).getRowsJson()[0] ?? [];
  const [rows] = (await ctx.conn.runAndReadAll(`SELECT sum(num_rows) FROM parquet_file_metadata(${list})`)).getRowsJson()[0] ?? [];
  const perRow = Number(bytes) / Number(rows);
  return Number.isFinite(perRow) && perRow > 0 ? perRow : 1;
}

/**
 * Untouched partitions that hold a key of the new rows (a row whose partition column changed): they are rewritten
 * without it, so a key lives in one partition only. A partition whose recorded key range holds none of the new keys
 * is not opened at all (ids that grow with the partition column, the usual case, rule out every untouched
 * partition); the others are read for their key columns only.
 */
async function partitionsHoldingNewKeys(ctx: WriteContext, candidates: PublishedFile[]): Promise<string[]> {
  if (ctx.primaryKey.length === 0 || candidates.length === 0) return [];
  const ranged: Array<{ file: PublishedFile; range: KeyRange }> = [];
  const toRead: PublishedFile[] = [];
  for (const f of candidates) {
    const range = ctx.keyRanges[f.path];
    if (range && rangeFits(ctx, range)) ranged.push({ file: f, range });
    else toRead.push(f);
  }
  if (ranged.length > 0) {
    const bounds = ctx.primaryKey.map((_, j) => `lo${j}, hi${j}`).join(', ');
    const values = ranged.map(({ range }, i) => `(${i}, ${range.map((c) => `CAST(${lit(c.min)} AS ${c.type}), CAST(${lit(c.max)} AS ${c.type})`).join(', ')})`).join(', ');
    const inside = ctx.primaryKey.map((k, j) => `n.${q(k)} BETWEEN r.lo${j} AND r.hi${j}`).join(' AND ');
    // A range outside the run's smallest and largest key (per column) holds none of its keys: one aggregate rules
    // those out before the range join, which otherwise compares every range with every new row (51 → 5 ms for the
    // 58 untouched ranges of a 100k-row run).
    const span = ctx.primaryKey.map((k, j) => `min(${q(k)}) AS nlo${j}, max(${q(k)}) AS nhi${j}`).join(', ');
    const overlaps = ctx.primaryKey.map((_, j) => `r.hi${j} >= b.nlo${j} AND r.lo${j} <= b.nhi${j}`).join(' AND ');
    const rows = (await ctx.conn.runAndReadAll(`WITH b AS (SELECT ${span} FROM ${newRows(ctx)}), c AS MATERIALIZED (SELECT r.* FROM (VALUES ${values}) r(i, ${bounds}), b WHERE ${overlaps})
      SELECT r.i FROM c r WHERE EXISTS (SELECT 1 FROM ${newRows(ctx)} n WHERE ${inside})`)).getRowsJson();
    for (const r of rows) toRead.push(ranged[Number(r[0])]!.file);
  }
  if (toRead.length === 0) return [];
  const files = toRead.map((f) => abs(ctx, f.path));
  const types = new Map(ctx.schema.map((c) => [c.name, c.type]));
  const keys = ctx.primaryKey.map((k) => `CAST(${q(k)} AS ${types.get(k) ?? 'VARCHAR'}) AS ${q(k)}`).join(', ');
  const sql = `SELECT DISTINCT o.file_index AS i FROM (SELECT ${keys}, file_index FROM read_parquet(${fileList(files)}, union_by_name = true)) o
    SEMI JOIN ${newRows(ctx)} n ON ${keyMatch(ctx, 'o', 'n')}`;
  const rows = (await ctx.conn.runAndReadAll(sql)).getRowsJson();
  return rows.map((r) => toRead[Number(r[0])]?.partition).filter((p): p is string => p !== undefined);
}

/** True when a recorded key range is of the current primary key, with the current types (else it cannot be compared). */
function rangeFits(ctx: WriteContext, range: KeyRange): boolean {
  const types = new Map(ctx.schema.map((c) => [c.name, c.type]));
  return range.length === ctx.primaryKey.length
    && range.every((c, j) => c.column === ctx.primaryKey[j] && c.type === types.get(c.column));
}

/**
 * The aggregates `keyRangeFrom` reads, per primary key column of rows aliased `alias` (or unqualified): the smallest
 * and largest value as text, and the count of NULLs, in that order.
 */
export function keyRangeAggregates(primaryKey: string[], alias?: string): string[] {
  const col = (k: string): string => (alias ? `${alias}.${q(k)}` : q(k));
  return primaryKey.map((k) => `min(${col(k)})::VARCHAR, max(${col(k)})::VARCHAR, count(*) - count(${col(k)})`);
}

/**
 * A key range from the text of `min, max, count of NULLs` per primary key column (`keyRangeAggregates`), as a scan of
 * a written file or of a run's partition returns them; undefined for an empty file or when a key column holds NULL (a NULL key matches
 * only a NULL key, which a range cannot say).
 */
export function keyRangeFrom(row: unknown[], schema: ColumnSchema[], primaryKey: string[]): KeyRange | undefined {
  if (primaryKey.length === 0) return undefined;
  const types = new Map(schema.map((c) => [c.name, c.type]));
  const range: KeyRange = [];
  for (const [j, column] of primaryKey.entries()) {
    const [min, max, nulls] = [row[j * 3], row[j * 3 + 1], row[j * 3 + 2]];
    const type = types.get(column);
    if (min === null || max === null || min === undefined || max === undefined || Number(nulls) > 0 || type === undefined) return undefined;
    range.push({ column, type, min: String(min), max: String(max) });
  }
  return range;
}

/** The old rows of some published files, cast to the published schema, with their order key. */
async function oldRows(ctx: WriteContext, files: PublishedFile[], conn = ctx.conn): Promise<string> {
  const source = `read_parquet(${fileList(files.map((f) => abs(ctx, f.path)))}, union_by_name = true, file_row_number = true)`;
  const cols = await describe(conn, `read_parquet(${fileList(files.map((f) => abs(ctx, f.path)))}, union_by_name = true)`);
  return `SELECT ${castList(ctx.schema, new Set(cols.map((c) => c.name)), 'o')}, ${ordExpr('o', 0)} AS ${ORD} FROM ${source} o`;
}

function newRowsSql(ctx: WriteContext, cols: Set<string>): string {
  if (ctx.chunkPaths.length === 0) {
    return `SELECT ${castList(ctx.schema, new Set(), 'c')}, 0::BIGINT AS ${ORD} WHERE false`;
  }
  return `SELECT ${castList(ctx.schema, cols, 'c')}, ${ordExpr('c', 1)} AS ${ORD}
    FROM read_parquet(${fileList(ctx.chunkPaths)}, union_by_name = true, file_row_number = true) c`;
}

/** The chunks' column names, read from their footers once per publish (the dedup check and the rows' query both ask). */
async function chunkColumns(ctx: WriteContext): Promise<Set<string>> {
  if (ctx.chunkPaths.length === 0) return new Set();
  if (!ctx.chunkColumns) {
    const cols = await describe(ctx.conn, `read_parquet(${fileList(ctx.chunkPaths)}, union_by_name = true)`);
    ctx.chunkColumns = new Set(cols.map((c) => c.name));
  }
  return ctx.chunkColumns;
}

/** DuckDB type names of the published types, as DESCRIBE reports them. */
const DESCRIBED_TYPE: Record<string, string> = {
  VARCHAR: 'VARCHAR', BIGINT: 'BIGINT', DOUBLE: 'DOUBLE', BOOLEAN: 'BOOLEAN', DATE: 'DATE', TIMESTAMP: 'TIMESTAMP',
  'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};

/** True when a Parquet file has exactly the published columns, in order, with exactly the published types. */
async function hasExactSchema(ctx: WriteContext, file: string): Promise<boolean> {
  const cols = await describe(ctx.conn, `read_parquet(${lit(file)})`);
  return cols.length === ctx.schema.length
    && cols.every((c, i) => c.name === ctx.schema[i]?.name && DESCRIBED_TYPE[c.type] === ctx.schema[i]?.type);
}

/** The columns and DuckDB types of a relation, read from Parquet footers only. */
export async function describe(conn: DuckDBConnection, relation: string): Promise<Array<{ name: string; type: string }>> {
  const rows = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)).getRowObjectsJson();
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

/** The row count in a Parquet file's footer. */
export async function parquetRowCount(conn: DuckDBConnection, file: string): Promise<number> {
  const rows = (await conn.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${lit(file)})`)).getRowsJson();
  return Number(rows[0]?.[0] ?? 0);
}

async function distinctParts(ctx: WriteContext, table: string): Promise<string[]> {
  const rows = (await ctx.conn.runAndReadAll(`SELECT DISTINCT ${PART} FROM ${table} ORDER BY 1`)).getRowsJson();
  return rows.map((r) => String(r[0]));
}

/** Writes `select` to `tmp`; returns the file's sha256 and size, hashed while DuckDB wrote it. */
async function copyTo(select: string, tmp: string, conn: DuckDBConnection, options = PARQUET_COPY_OPTIONS): Promise<StoredBlob> {
  await mkdir(path.dirname(tmp), { recursive: true });
  const copying = conn.run(`COPY (${select}) TO ${lit(tmp)} (${options})`);
  const digesting = hashWhileWritten(tmp, copying);
  digesting.catch(() => undefined);
  await copying;
  return digesting;
}

function newTemp(ctx: WriteContext, final: string, partition?: string): WrittenFile {
  const tmp = tempPathFor(abs(ctx, final));
  ctx.temps.push(tmp);
  return partition === undefined ? { final, tmp } : { final, tmp, partition };
}

/** A predicate over the published columns true for the rows of partition `key` (cheaper than computing PART: see partitionFilterSql). */
function partitionFilter(ctx: WriteContext, key: string): string {
  const column = ctx.partitionBy ?? '';
  const type = ctx.schema.find((c) => c.name === column)?.type ?? '';
  return partitionFilterSql(ctx.tableName, column, type, ctx.granularity, key);
}

function partitionExpr(ctx: WriteContext): string {
  const column = ctx.partitionBy ?? '';
  const type = ctx.schema.find((c) => c.name === column)?.type ?? '';
  return partitionKeySql(ctx.tableName, column, type, ctx.granularity);
}

/** Each published column cast to its published type; a column the source lacks is a typed NULL (never a NULL-typed column). */
function castList(schema: ColumnSchema[], available: Set<string>, alias: string): string {
  return schema.map((c) => `CAST(${available.has(c.name) ? `${alias}.${q(c.name)}` : 'NULL'} AS ${c.type}) AS ${q(c.name)}`).join(', ');
}

function columnList(ctx: WriteContext): string {
  return ctx.schema.map((c) => q(c.name)).join(', ');
}

function keyMatch(ctx: WriteContext, a: string, b: string): string {
  return ctx.primaryKey.map((k) => `${a}.${q(k)} IS NOT DISTINCT FROM ${b}.${q(k)}`).join(' AND ');
}

function fileList(files: string[]): string {
  return `[${files.map(lit).join(', ')}]`;
}

function abs(ctx: WriteContext, rel: string): string {
  return path.join(ctx.dataDir, rel);
}
