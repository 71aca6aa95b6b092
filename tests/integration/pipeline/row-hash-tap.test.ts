import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TableConfig } from '../../../config/index.ts';
import { readFile, writeFile } from 'node:fs/promises';
import type { BlobStore, ColumnSchema } from '../../../events/index.ts';
import { ParquetPublisher } from '../../../pipeline/projections/parquet/index.ts';
import type { PublishedTable } from '../../../pipeline/projections/parquet/publish.ts';
import { ParquetWriter } from '../../../pipeline/projections/parquet/writer.ts';
import type { AppliedRun } from '../../../pipeline/projections/parquet/writer.ts';
import { RowHashTaps, rowContentSha } from '../../../pipeline/projections/parquet/row-hash-tap.ts';
import { writeParquet } from '../../helpers/parquet.ts';

let root: string;
let instance: DuckDBInstance;
let conn: DuckDBConnection;
let taps: RowHashTaps;

/** Columns of every published type, NULLs in each, and names that need quoting. */
const COLUMNS = ['id', 'the name', 'say "hi"', 'amount', 'flag', 'day', 'at', 'at_tz'];
const ROWS_SQL = (from: number, to: number): string => `SELECT
    CASE WHEN i % 97 = 0 THEN NULL ELSE i END::BIGINT AS "id",
    CASE WHEN i % 13 = 0 THEN NULL ELSE 'name ' || (i % 1000) END AS "the name",
    repeat('x', (i % 7)::INTEGER) AS "say ""hi""",
    CASE WHEN i % 11 = 0 THEN NULL ELSE i / 3.0 END::DOUBLE AS "amount",
    CASE WHEN i % 5 = 0 THEN NULL ELSE i % 2 = 0 END AS "flag",
    DATE '2024-01-01' + (i % 400)::INTEGER AS "day",
    TIMESTAMP '2024-01-01' + to_seconds(i) AS "at",
    CASE WHEN i % 17 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i * 7) END AS "at_tz"
  FROM range(${from}, ${to}) t(i)`;

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** What a scan of the written file says: row count and the sum of DuckDB's row hashes. */
async function scanned(file: string): Promise<{ rows: number; sum: bigint }> {
  const [rows, sum] = (await conn.runAndReadAll(`SELECT count(*)::VARCHAR, coalesce(sum(hash(r)), 0)::VARCHAR FROM read_parquet('${file}') r`)).getRowsJson()[0]!;
  return { rows: Number(rows), sum: BigInt(String(sum)) };
}

/** A merge as the publisher writes one (anti join plus union, several threads), copied with `tap` over its first column. */
async function tappedCopy(c: DuckDBConnection, file: string, source: string): Promise<{ rows: number; sum: bigint }> {
  const tap = taps.open();
  try {
    await c.run(`COPY (SELECT ${[tap.wrap(COLUMNS[0]!, COLUMNS), ...COLUMNS.slice(1).map(quote)].join(', ')} FROM (${source})) TO '${file}' (FORMAT parquet)`);
    return tap.close();
  } finally {
    tap.close();
  }
}

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ada-row-tap-'));
  instance = await DuckDBInstance.create(':memory:', { threads: '4', preserve_insertion_order: 'true' });
  conn = await instance.connect();
  taps = RowHashTaps.register(conn);
  await conn.run(`CREATE TABLE old AS ${ROWS_SQL(0, 60_000)}`);
  await conn.run(`CREATE TABLE fresh AS ${ROWS_SQL(50_000, 70_000).replace('repeat(\'x\'', 'repeat(\'y\'')}`);
});

after(async () => {
  conn.closeSync();
  instance.closeSync();
  await rm(root, { recursive: true, force: true });
});

const MERGE = `SELECT o.* FROM old o ANTI JOIN fresh n ON o."id" IS NOT DISTINCT FROM n."id" UNION ALL BY NAME SELECT * FROM fresh`;

describe('RowHashTaps', () => {
  it('sums exactly the written rows, as a scan of the file does, and leaves the wrapped column as it was', async () => {
    const file = path.join(root, 'merged.parquet');
    const tapped = await tappedCopy(conn, file, MERGE);
    const expected = (await conn.runAndReadAll(`SELECT count(*) FROM (${MERGE})`)).getRowsJson()[0]![0];
    assert.equal(tapped.rows, Number(expected));
    assert.ok(tapped.rows > 10 * 2048, 'many vectors, on several threads');
    assert.deepEqual(tapped, await scanned(file));
    const [nulls, total] = (await conn.runAndReadAll(`SELECT count(*) FILTER (WHERE "id" IS NULL)::VARCHAR, sum("id")::VARCHAR FROM read_parquet('${file}')`)).getRowsJson()[0]!;
    const [wantNulls, wantTotal] = (await conn.runAndReadAll(`SELECT count(*) FILTER (WHERE "id" IS NULL)::VARCHAR, sum("id")::VARCHAR FROM (${MERGE})`)).getRowsJson()[0]!;
    assert.deepEqual([nulls, total], [wantNulls, wantTotal]);
  });

  it('keeps the taps of concurrent copies apart, on connections other than the one that registered the function', async () => {
    const [a, b] = [await instance.connect(), await instance.connect()];
    try {
      const files = [path.join(root, 'a.parquet'), path.join(root, 'b.parquet')];
      const sums = await Promise.all([tappedCopy(a, files[0]!, MERGE), tappedCopy(b, files[1]!, 'SELECT * FROM old WHERE "id" % 3 = 0')]);
      assert.deepEqual(sums[0], await scanned(files[0]!));
      assert.deepEqual(sums[1], await scanned(files[1]!));
      assert.notEqual(sums[0].rows, sums[1].rows);
    } finally {
      a.closeSync();
      b.closeSync();
    }
  });

  it('fails a query that names a tap no longer open', async () => {
    const tap = taps.open();
    tap.close();
    await assert.rejects(conn.run(`SELECT ${tap.wrap(COLUMNS[0]!, COLUMNS)} FROM old`), /not open/);
  });
});

describe('ParquetPublisher merge row hash', () => {
  const schema: ColumnSchema[] = [{ name: 'id', type: 'BIGINT' }, { name: 'note', type: 'VARCHAR' }, { name: 'at', type: 'TIMESTAMP' }];
  const ordersTable = (extra: Partial<TableConfig> = {}): TableConfig => ({
    id: 'in.c-shop.orders', name: 'orders', description: 'Orders', source: 'csv', primaryKey: ['id'],
    syncStrategy: 'incremental', incrementalWindowDays: 7, partitionGranularity: 'month', initialLoadChunkDays: 30,
    whereFilters: [], foreignKeys: [], folder: 'shop', bucket: 'in.c-shop', columns: [], private: false,
    schemaPolicy: 'strict', location: { file: 'data_description.md', line: 1 }, ...extra,
  } as TableConfig);
  /** Rows `from`..`to`, a second apart times `spacing` from 2024-01-01; `seed` changes the notes. */
  const chunk = async (name: string, from: number, to: number, seed: number, spacing = 1) => {
    const file = path.join(root, name);
    await writeParquet(file, `SELECT i::BIGINT AS id, CASE WHEN i % 9 = 0 THEN NULL ELSE 'n' || (i * ${seed}) END AS note, TIMESTAMP '2024-01-01' + to_seconds(i * ${spacing}) AS at FROM range(${from}, ${to}) t(i)`);
    return { path: file, rows: to - from, schema };
  };
  /** Runs `fn` with a publisher (4 threads) and a fresh data dir, closing the publisher after. */
  const withPublisher = async (fn: (publisher: ParquetPublisher, dataDir: string) => Promise<void>): Promise<void> => {
    const dataDir = await mkdtemp(path.join(root, 'data-'));
    const publisher = await ParquetPublisher.create({ threads: 4 });
    try {
      await fn(publisher, dataDir);
    } finally {
      await publisher.close();
    }
  };
  const rowHash = (rows: number, sum: bigint): string =>
    createHash('sha256').update(`${rows}:${sum}:${JSON.stringify(schema.map((s) => [s.name, s.type]))}`).digest('hex');

  it('names a merged file by the row hash a scan of it gives', () => withPublisher(async (publisher, dataDir) => {
    const table = ordersTable();
    const first = await publisher.publish({ dataDir, table, mode: 'upsert', chunks: [await chunk('c1', 0, 30_000, 1)] });
    const merged = await publisher.publish({ dataDir, table, mode: 'upsert', previous: first, chunks: [await chunk('c2', 20_000, 40_000, 2)] });
    const { rows, sum } = await scanned(path.join(dataDir, merged.files[0]!.path));
    assert.equal(rows, 40_000);
    assert.equal(merged.files[0]!.contentSha, rowHash(rows, sum));
  }));

  it('names each merged partition by the row hash a scan of it gives', () => withPublisher(async (publisher, dataDir) => {
    const table = ordersTable({ partitionBy: 'at' });
    // 100 s apart: January and February 2024, both touched by the second run.
    const first = await publisher.publish({ dataDir, table, mode: 'upsert', chunks: [await chunk('p1', 0, 30_000, 1, 100)] });
    const merged = await publisher.publish({ dataDir, table, mode: 'upsert', previous: first, chunks: [await chunk('p2', 20_000, 40_000, 2, 100)] });
    assert.deepEqual(merged.files.map((f) => f.partition).sort(), ['2024_01', '2024_02']);
    let total = 0;
    for (const file of merged.files) {
      const { rows, sum } = await scanned(path.join(dataDir, file.path));
      total += rows;
      assert.equal(file.contentSha, rowHash(rows, sum), `partition ${file.partition}`);
    }
    assert.equal(total, 40_000);
  }));

  /**
   * Rows with NULL keys and NULL values: ids `from`..`to` (every 50th id NULL), notes depending on `seed`, times
   * `spacing` seconds apart from 2024-01-01.
   */
  const nullish = async (name: string, from: number, to: number, seed: number, spacing = 1) => {
    const file = path.join(root, name);
    await writeParquet(file, `SELECT CASE WHEN i % 50 = 7 THEN NULL ELSE i END::BIGINT AS id, CASE WHEN i % 9 = 0 THEN NULL ELSE 'n' || (i * ${seed}) END AS note,
      TIMESTAMP '2024-01-01' + to_seconds(i * ${spacing}) AS at FROM range(${from}, ${to}) t(i)`);
    return { path: file, rows: to - from, schema };
  };

  /** Every file of a publish named by the row hash a scan of it gives, with the scan's sum recorded for it. */
  const assertScanned = async (dataDir: string, published: PublishedTable, fileSchema = schema): Promise<void> => {
    assert.ok(published.files.length > 0);
    for (const file of published.files) {
      const { rows, sum } = await scanned(path.join(dataDir, file.path));
      assert.equal(file.rows, rows, file.path);
      assert.equal(published.rowSums?.[file.path], sum.toString(), `recorded sum of ${file.path}`);
      assert.equal(file.contentSha, rowContentSha(String(rows), sum.toString(), fileSchema), `row hash of ${file.path}`);
    }
  };

  /** `previous` whose recorded sum of each file is `delta` off, its contentSha made to agree (so it is used). */
  const skewed = (previous: PublishedTable, delta: bigint): PublishedTable => {
    const rowSums: Record<string, string> = {};
    const files = previous.files.map((f) => {
      const sum = (BigInt(previous.rowSums![f.path]!) + delta).toString();
      rowSums[f.path] = sum;
      return { ...f, contentSha: rowContentSha(String(f.rows), sum, previous.schema) };
    });
    return { ...previous, files, rowSums };
  };

  it('derives a merged file\'s row sum from the old file\'s, equal to a full hash of it (updates, inserts, NULL keys, keys repeated in the run)', () => withPublisher(async (publisher, dataDir) => {
    const table = ordersTable();
    const first = await publisher.publish({ dataDir, table, mode: 'upsert', chunks: [await nullish('d1', 0, 30_000, 1)] });
    await assertScanned(dataDir, first);
    // Updates of 10k ids (and of the NULL key), 5k new ids; the second chunk repeats 2k keys of the first, which win.
    const run = [await nullish('d2', 20_000, 35_000, 2), await nullish('d3', 33_000, 35_000, 3)];
    const merged = await publisher.publish({ dataDir, table, mode: 'upsert', previous: first, chunks: run });
    await assertScanned(dataDir, merged);
    const again = await publisher.publish({ dataDir, table, mode: 'upsert', previous: merged, chunks: [await nullish('d4', 0, 2_000, 4)] });
    await assertScanned(dataDir, again);

    // The sum is derived, not taken again: an old sum recorded one too high is one too high after the merge.
    const other = await mkdtemp(path.join(root, 'data-'));
    const base = await publisher.publish({ dataDir: other, table, mode: 'upsert', chunks: [await nullish('d1', 0, 30_000, 1)] });
    const derived = await publisher.publish({ dataDir: other, table, mode: 'upsert', previous: skewed(base, 1n), chunks: run });
    assert.equal(derived.rowSums?.[derived.files[0]!.path], (BigInt(merged.rowSums![merged.files[0]!.path]!) + 1n).toString());
  }));

  it('derives merged partitions\' row sums, a row moving from one partition to another included', () => withPublisher(async (publisher, dataDir) => {
    const table = ordersTable({ partitionBy: 'at' });
    // 100 s apart: 0..26784 in January 2024, the rest in February.
    const first = await publisher.publish({ dataDir, table, mode: 'upsert', chunks: [await nullish('q1', 0, 40_000, 1, 100)] });
    await assertScanned(dataDir, first);
    // Ids 1000..1999 move from January to March (their times 2000 s apart now); ids 30000..34999 update February.
    const move = path.join(root, 'q-move');
    await writeParquet(move, `SELECT i::BIGINT AS id, 'moved' AS note, TIMESTAMP '2024-03-01' + to_seconds(i) AS at FROM range(1000, 2000) t(i)`);
    const run = [{ path: move, rows: 1000, schema }, await nullish('q2', 30_000, 35_000, 2, 100)];
    const merged = await publisher.publish({ dataDir, table, mode: 'upsert', previous: first, chunks: run });
    assert.deepEqual(merged.files.map((f) => f.partition), ['2024_01', '2024_02', '2024_03']);
    await assertScanned(dataDir, merged);

    const other = await mkdtemp(path.join(root, 'data-'));
    const base = await publisher.publish({ dataDir: other, table, mode: 'upsert', chunks: [await nullish('q1', 0, 40_000, 1, 100)] });
    const derived = await publisher.publish({ dataDir: other, table, mode: 'upsert', previous: skewed(base, 5n), chunks: run });
    for (const f of derived.files) {
      const want = BigInt(merged.rowSums![f.path]!) + (f.partition === '2024_03' ? 0n : 5n);
      assert.equal(derived.rowSums?.[f.path], want.toString(), `partition ${f.partition}`);
    }
  }));

  it('hashes every row instead when the old sum was not recorded, is not the file\'s, or the schema changed', () => withPublisher(async (publisher, dataDir) => {
    const table = ordersTable();
    const first = await publisher.publish({ dataDir, table, mode: 'upsert', chunks: [await nullish('f1', 0, 30_000, 1)] });
    const run = [await nullish('f2', 20_000, 35_000, 2)];
    // A state written before sums were recorded, and one whose sum does not agree with the file's contentSha.
    const { rowSums: _none, ...unrecorded } = first;
    const path0 = first.files[0]!.path;
    const stale = { ...first, rowSums: { [path0]: (BigInt(first.rowSums![path0]!) + 1n).toString() } };
    for (const previous of [unrecorded, stale]) {
      const other = await mkdtemp(path.join(root, 'data-'));
      const base = await publisher.publish({ dataDir: other, table, mode: 'upsert', chunks: [await nullish('f1', 0, 30_000, 1)] });
      assert.equal(base.contentHash, first.contentHash);
      await assertScanned(other, await publisher.publish({ dataDir: other, table, mode: 'upsert', previous: { ...previous, files: base.files }, chunks: run }));
    }

    // An added column changes every row's hash: the old sum cannot be used (a derivation would be off), so every row is hashed.
    const wider: ColumnSchema[] = [...schema, { name: 'qty', type: 'BIGINT' }];
    const added = path.join(root, 'f-added');
    await writeParquet(added, `SELECT i::BIGINT AS id, 'w' || i AS note, TIMESTAMP '2024-01-01' + to_seconds(i) AS at, i * 2 AS qty FROM range(25000, 26000) t(i)`);
    const evolved = await publisher.publish({ dataDir, table: ordersTable({ schemaPolicy: 'evolve' }), mode: 'upsert', previous: first, chunks: [{ path: added, rows: 1000, schema: wider }] });
    assert.deepEqual(evolved.schema.map((c) => c.name), ['id', 'note', 'at', 'qty']);
    await assertScanned(dataDir, evolved, evolved.schema);
    // A retyped column (BIGINT widened to DOUBLE) too.
    const retyped = path.join(root, 'f-retyped');
    await writeParquet(retyped, `SELECT i::BIGINT AS id, 'r' || i AS note, TIMESTAMP '2024-01-01' + to_seconds(i) AS at, i / 4 AS qty FROM range(26000, 27000) t(i)`);
    const widened = await publisher.publish({ dataDir, table: ordersTable({ schemaPolicy: 'evolve' }), mode: 'upsert', previous: evolved, chunks: [{ path: retyped, rows: 1000, schema: [...schema, { name: 'qty', type: 'DOUBLE' }] }] });
    assert.equal(widened.schema.find((c) => c.name === 'qty')?.type, 'DOUBLE');
    await assertScanned(dataDir, widened, widened.schema);
  }));

  it('the writer keeps each merged file\'s sum in its state and hands it to the next merge', async () => {
    const dataDir = await mkdtemp(path.join(root, 'data-'));
    const chunks = [await nullish('w1', 0, 20_000, 1), await nullish('w2', 10_000, 25_000, 2)];
    // The staged chunks stand in for blobs: the writer only asks for their verified paths (verified ahead or not).
    const blobs = { verifiedPath: async (sha: string) => chunks[Number(sha)]!.path, verifyAhead: async () => undefined } as unknown as BlobStore;
    const run = (i: number) => ({ runId: `r${i}`, position: i + 1, table: ordersTable(), mode: 'upsert' as const, chunks: [{ blob: { sha256: String(i), bytes: 1, format: 'parquet' as const }, rows: chunks[i]!.rows, schema }] });
    const writer = await ParquetWriter.create(dataDir, blobs, { publisher: ParquetPublisher.create({ threads: 4 }) });
    try {
      const first = (await writer.apply(run(0))).result;
      await assertScanned(dataDir, first);
      // The state on disk says the sum is one higher (its contentSha made to agree): the next merge's sum follows it.
      const stateFile = path.join(dataDir, 'metadata', 'published', 'orders.json');
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as AppliedRun;
      await writeFile(stateFile, JSON.stringify({ ...state, ...skewed(state, 1n) }));
      const merged = (await writer.apply(run(1))).result;
      const { sum } = await scanned(path.join(dataDir, merged.files[0]!.path));
      assert.equal(merged.rowSums?.[merged.files[0]!.path], (sum + 1n).toString());
    } finally {
      await writer.close();
    }
  });
});
