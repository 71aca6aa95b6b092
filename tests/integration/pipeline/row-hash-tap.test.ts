import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TableConfig } from '../../../config/index.ts';
import type { ColumnSchema } from '../../../events/index.ts';
import { ParquetPublisher } from '../../../pipeline/projections/parquet/index.ts';
import { RowHashTaps } from '../../../pipeline/projections/parquet/row-hash-tap.ts';
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
  const rowHash = (rows: number, sum: bigint): string =>
    createHash('sha256').update(`${rows}:${sum}:${JSON.stringify(schema.map((s) => [s.name, s.type]))}`).digest('hex');

  it('names a merged file by the row hash a scan of it gives', async () => {
    const dataDir = await mkdtemp(path.join(root, 'data-'));
    const table = ordersTable();
    const publisher = await ParquetPublisher.create({ threads: 4 });
    try {
      const first = await publisher.publish({ dataDir, table, mode: 'upsert', chunks: [await chunk('c1', 0, 30_000, 1)] });
      const merged = await publisher.publish({ dataDir, table, mode: 'upsert', previous: first, chunks: [await chunk('c2', 20_000, 40_000, 2)] });
      const { rows, sum } = await scanned(path.join(dataDir, merged.files[0]!.path));
      assert.equal(rows, 40_000);
      assert.equal(merged.files[0]!.contentSha, rowHash(rows, sum));
    } finally {
      await publisher.close();
    }
  });

  it('names each merged partition by the row hash a scan of it gives', async () => {
    const dataDir = await mkdtemp(path.join(root, 'data-'));
    const table = ordersTable({ partitionBy: 'at' });
    const publisher = await ParquetPublisher.create({ threads: 4 });
    try {
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
    } finally {
      await publisher.close();
    }
  });
});
