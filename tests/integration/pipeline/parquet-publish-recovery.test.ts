import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TableConfig } from '../../../config/index.ts';
import type { ColumnSchema } from '../../../events/index.ts';
import { ParquetPublisher } from '../../../pipeline/projections/parquet/index.ts';
import type { PublishInput, PublishJournal, PublishResult } from '../../../pipeline/projections/parquet/index.ts';
import { writeParquet } from '../../helpers/parquet.ts';

function table(overrides: Partial<TableConfig> = {}): TableConfig {
  return {
    id: 'in.c-shop.orders', name: 'orders', description: 'Orders', source: 'csv', primaryKey: ['id'],
    syncStrategy: 'incremental', incrementalWindowDays: 7, partitionGranularity: 'month', initialLoadChunkDays: 30,
    whereFilters: [], foreignKeys: [], folder: 'shop', bucket: 'in.c-shop', columns: [], private: false,
    schemaPolicy: 'strict', location: { file: 'data_description.md', line: 1 },
    ...overrides,
  };
}

const SCHEMA: ColumnSchema[] = [
  { name: 'id', type: 'BIGINT' }, { name: 'customer', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE' }, { name: 'created', type: 'DATE' },
];

let root: string;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ada-parquet-recovery-'));
  await mkdir(path.join(root, 'chunks'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A chunk of `count` generated rows with ids `first, first + step, …`, shuffled, values depending on `version`. */
async function generatedChunk(name: string, first: number, count: number, step: number, version: number): Promise<PublishInput['chunks'][number]> {
  const file = path.join(root, 'chunks', name);
  await writeParquet(file, `SELECT (${first} + range * ${step})::BIGINT AS id, 'customer-' || (range % 5000) || '-v${version}' AS customer,
      ((range * 7 + ${version}) % 10000) / 100.0::DOUBLE AS amount, (DATE '2020-01-01' + ((range * 13) % 1500)::INTEGER) AS created
    FROM range(${count}) ORDER BY hash(range + ${version})`);
  return { path: file, rows: count, schema: SCHEMA };
}

async function sha(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('ParquetPublisher determinism', () => {
  it('gives the same bytes and contentHash on two fresh data dirs, whatever the thread count and memory limit', async () => {
    // Big enough for DuckDB to split the work into many batches across threads (row groups are 122,880 rows).
    const load = [await generatedChunk('load-a', 0, 300_000, 1, 1), await generatedChunk('load-b', 300_000, 300_000, 1, 1)];
    const changes = [await generatedChunk('change-a', 0, 60_000, 10, 2), await generatedChunk('change-b', 5, 60_000, 9, 3)];
    const runs: Array<{ table: TableConfig; mode: 'replace' | 'upsert'; chunks: PublishInput['chunks'] }> = [
      { table: table(), mode: 'replace', chunks: load },
      { table: table(), mode: 'upsert', chunks: changes },
      { table: table({ name: 'monthly', partitionBy: 'created' }), mode: 'replace', chunks: load },
      { table: table({ name: 'monthly', partitionBy: 'created' }), mode: 'upsert', chunks: changes },
      { table: table({ name: 'log', primaryKey: [] }), mode: 'upsert', chunks: load },
      { table: table({ name: 'log', primaryKey: [] }), mode: 'upsert', chunks: changes },
    ];
    const hashes: string[][] = [];
    // The small memory limit also splits the partitioned export into several groups (see writeAllPartitions).
    for (const { threads, memoryLimit } of [{ threads: 1, memoryLimit: '512MB' }, { threads: 4, memoryLimit: '48MB' }]) {
      const dataDir = await mkdtemp(path.join(root, `det-${threads}-`));
      const publisher = await ParquetPublisher.create({ threads, memoryLimit });
      const previous = new Map<string, PublishResult>();
      const out: string[] = [];
      try {
        for (const run of runs) {
          const result = await publisher.publish({ dataDir, table: run.table, mode: run.mode, chunks: run.chunks, previous: previous.get(run.table.name) });
          previous.set(run.table.name, result);
          out.push(result.contentHash);
        }
      } finally {
        await publisher.close();
      }
      hashes.push(out);
    }
    assert.deepEqual(hashes[1], hashes[0]);
    assert.equal(new Set(hashes[0]).size, runs.length, 'each run changed the content');
  });

  it('identifies merged files by their rows: same content hash whatever the threads, and an upsert that changes nothing keeps the file', async () => {
    const hashes: string[] = [];
    for (const threads of [1, 4]) {
      const dataDir = await mkdtemp(path.join(root, `rows-${threads}-`));
      const publisher = await ParquetPublisher.create({ threads });
      try {
        const first = await publisher.publish({ dataDir, table: table(), mode: 'upsert', chunks: [await generatedChunk(`rows-a-${threads}`, 0, 20_000, 2, 1)] });
        const result = await publisher.publish({ dataDir, table: table(), mode: 'upsert', previous: first, chunks: [await generatedChunk(`rows-b-${threads}`, 1, 10_000, 3, 2)] });
        assert.ok(result.files[0]!.contentSha, 'a merged file carries a row hash');
        hashes.push(result.contentHash);
        const file = path.join(dataDir, result.files[0]!.path);
        const before = await stat(file);
        const again = await publisher.publish({ dataDir, table: table(), mode: 'upsert', previous: result, chunks: [await generatedChunk(`rows-c-${threads}`, 1, 10_000, 3, 2)] });
        assert.equal(again.contentHash, result.contentHash);
        assert.equal((await stat(file)).mtimeMs, before.mtimeMs, 'same rows: the published file is left untouched');
      } finally {
        await publisher.close();
      }
    }
    assert.equal(hashes[0], hashes[1]);
  });
});

describe('ParquetPublisher.recover', () => {
  it('rolls an interrupted publish forward from its journal and removes stray temp files', async () => {
    const dataDir = await mkdtemp(path.join(root, 'recover-'));
    const publisher = await ParquetPublisher.create();
    try {
      const t = table({ partitionBy: 'created' });
      const rows = `SELECT id::BIGINT AS id, 'c' AS customer, 1.0::DOUBLE AS amount, created::DATE AS created FROM (VALUES`;
      const c = path.join(root, 'chunks', 'recover-v1');
      await writeParquet(c, `${rows} (1, '2024-01-01'), (2, '2024-02-01'), (3, '2024-03-01')) t(id, created)`);
      const v1 = await publisher.publish({ dataDir, table: t, mode: 'replace', chunks: [{ path: c, rows: 3, schema: SCHEMA }] });
      const dir = path.join(dataDir, 'parquet/shop/orders');
      const janSha = await sha(path.join(dir, '2024_01.parquet'));

      // A publish that crashed mid-way: temps written and fsynced, journal written, the first rename done, the rest not.
      await writeParquet(path.join(dir, '.2024_02.parquet.tmp-0a1b'), `${rows} (2, '2024-02-02'), (5, '2024-02-05')) t(id, created)`);
      await writeParquet(path.join(dir, '.2024_04.parquet.tmp-0c1d'), `${rows} (4, '2024-04-04')) t(id, created)`);
      const febSha = await sha(path.join(dir, '.2024_02.parquet.tmp-0a1b'));
      const manifest = '{"v":1,"note":"the manifest of the new version"}\n';
      const journal: PublishJournal = {
        v: 1, table: 'orders',
        renames: [
          { from: 'parquet/shop/orders/.2024_04.parquet.tmp-0c1d', to: 'parquet/shop/orders/2024_04.parquet' },
          { from: 'parquet/shop/orders/.2024_02.parquet.tmp-0a1b', to: 'parquet/shop/orders/2024_02.parquet' },
        ],
        deletes: ['parquet/shop/orders/2024_03.parquet'],
        manifest: { path: 'parquet/shop/orders/_manifest.json', content: manifest },
      };
      await writeFile(path.join(dataDir, 'parquet/.publish-journal-orders.json'), JSON.stringify(journal));
      await rename(path.join(dir, '.2024_04.parquet.tmp-0c1d'), path.join(dir, '2024_04.parquet'));
      // Leftovers of a crash before any journal: a temp Parquet file and a write-file-atomic temp of a manifest.
      await writeFile(path.join(dataDir, 'parquet/shop/.customers.parquet.tmp-99ff'), 'half a file');
      await writeFile(path.join(dir, '_manifest.json.123456'), '{"v":');
      await mkdir(path.join(dataDir, 'tmp/duckdb/parquet'), { recursive: true });
      await writeFile(path.join(dataDir, 'tmp/duckdb/parquet/duckdb_temp_storage-0.tmp'), 'spill');

      await publisher.recover(dataDir);

      assert.deepEqual((await readdir(dir)).sort(), ['2024_01.parquet', '2024_02.parquet', '2024_04.parquet', '_manifest.json']);
      assert.equal(await sha(path.join(dir, '2024_01.parquet')), janSha, 'files outside the journal are untouched');
      assert.equal(await sha(path.join(dir, '2024_02.parquet')), febSha);
      assert.equal(await readFile(path.join(dir, '_manifest.json'), 'utf8'), manifest);
      assert.deepEqual((await readdir(path.join(dataDir, 'parquet'))).sort(), ['shop']);
      assert.deepEqual(await readdir(path.join(dataDir, 'parquet/shop')), ['orders']);
      assert.deepEqual(await readdir(path.join(dataDir, 'tmp/duckdb/parquet')), []);
      assert.equal(v1.files.length, 3);
    } finally {
      await publisher.close();
    }
  });

  it('a publish first finishes a journal its table left behind', async () => {
    const dataDir = await mkdtemp(path.join(root, 'pending-'));
    const publisher = await ParquetPublisher.create();
    try {
      const c = path.join(root, 'chunks', 'pending-v1');
      await writeParquet(c, `SELECT 1::BIGINT AS id, 'a' AS customer, 1.0::DOUBLE AS amount, DATE '2024-01-01' AS created`);
      const v1 = await publisher.publish({ dataDir, table: table(), mode: 'replace', chunks: [{ path: c, rows: 1, schema: SCHEMA }] });
      const stale = path.join(dataDir, 'parquet/shop/old_orders.parquet');
      await writeFile(stale, 'stale');
      const journal: PublishJournal = { v: 1, table: 'orders', renames: [], deletes: ['parquet/shop/old_orders.parquet'] };
      await writeFile(path.join(dataDir, 'parquet/.publish-journal-orders.json'), JSON.stringify(journal));

      await publisher.publish({ dataDir, table: table(), mode: 'replace', previous: v1, chunks: [{ path: c, rows: 1, schema: SCHEMA }] });
      await assert.rejects(stat(stale), { code: 'ENOENT' });
      await assert.rejects(stat(path.join(dataDir, 'parquet/.publish-journal-orders.json')), { code: 'ENOENT' });
    } finally {
      await publisher.close();
    }
  });

  it('refuses a journal that points outside the parquet directory', async () => {
    const dataDir = await mkdtemp(path.join(root, 'evil-'));
    const publisher = await ParquetPublisher.create();
    try {
      const victim = path.join(dataDir, 'events.log');
      await writeFile(victim, 'precious');
      await mkdir(path.join(dataDir, 'parquet'));
      const journal: PublishJournal = { v: 1, table: 'orders', renames: [], deletes: ['parquet/../events.log'] };
      await writeFile(path.join(dataDir, 'parquet/.publish-journal-orders.json'), JSON.stringify(journal));
      await assert.rejects(publisher.recover(dataDir), (err: { code?: string }) => err.code === 'JOURNAL_CORRUPT');
      assert.equal(await readFile(victim, 'utf8'), 'precious');
    } finally {
      await publisher.close();
    }
  });
});
