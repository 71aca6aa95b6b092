import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TableConfig } from '../../../config/index.ts';
import type { ColumnSchema } from '../../../events/index.ts';
import { ParquetPublisher } from '../../../pipeline/projections/parquet/index.ts';
import type { PartitionManifest, PublishInput, PublishResult } from '../../../pipeline/projections/parquet/index.ts';
import { columnEncodings, parquetColumns, readParquet, writeParquet } from '../../helpers/parquet.ts';

function table(overrides: Partial<TableConfig> = {}): TableConfig {
  return {
    id: 'in.c-shop.orders', name: 'orders', description: 'Orders', source: 'csv', primaryKey: ['id'],
    syncStrategy: 'full_refresh', incrementalWindowDays: 7, partitionGranularity: 'month', initialLoadChunkDays: 30,
    whereFilters: [], foreignKeys: [], folder: 'shop', bucket: 'in.c-shop', columns: [], private: false,
    schemaPolicy: 'strict', location: { file: 'data_description.md', line: 1 },
    ...overrides,
  };
}

const ORDER_SCHEMA: ColumnSchema[] = [
  { name: 'id', type: 'BIGINT' }, { name: 'status', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE' }, { name: 'created', type: 'DATE' },
];

let root: string;
let publisher: ParquetPublisher;
let chunkNo = 0;

/** Writes a chunk Parquet file from a VALUES list of (id, status, amount, created). */
async function chunk(values: string, schema: ColumnSchema[] = ORDER_SCHEMA, select?: string): Promise<PublishInput['chunks'][number]> {
  const file = path.join(root, 'chunks', `chunk-${++chunkNo}`);
  const cols = schema.map((c) => c.name).join(', ');
  const casts = schema.map((c) => `CAST(${c.name} AS ${c.type}) AS ${c.name}`).join(', ');
  await writeParquet(file, select ?? `SELECT ${casts} FROM (VALUES ${values}) t(${cols})`);
  const rows = (await readParquet(file)).length;
  return { path: file, rows, schema };
}

async function newDataDir(): Promise<string> {
  return mkdtemp(path.join(root, 'data-'));
}

async function sha(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Every file under a directory, relative to it (temp files included, so leftovers show). */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(d, e.name));
      else out.push(path.relative(dir, path.join(d, e.name)));
    }
  };
  await walk(dir);
  return out.sort();
}

function filesOf(dataDir: string, result: PublishResult): string[] {
  return result.files.map((f) => path.join(dataDir, f.path));
}

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ada-parquet-publish-'));
  await import('node:fs/promises').then((fs) => fs.mkdir(path.join(root, 'chunks')));
  publisher = await ParquetPublisher.create({ memoryLimit: '256MB' });
});

after(async () => {
  await publisher.close();
  await rm(root, { recursive: true, force: true });
});

describe('ParquetPublisher full refresh', () => {
  it('publishes a single chunk in the published schema by copying it byte for byte', async () => {
    const dataDir = await newDataDir();
    const c = await chunk(`(1, 'new', 9.5, '2024-01-03'), (2, 'paid', 3.25, '2024-02-01')`);
    const chunkSha = await sha(c.path);
    const result = await publisher.publish({ dataDir, table: table(), chunks: [c], mode: 'replace' });

    assert.equal(result.files.length, 1);
    const [file] = result.files;
    assert.equal(file?.path, 'parquet/shop/orders.parquet');
    assert.equal(file?.sha256, chunkSha);
    assert.equal(file?.rows, 2);
    assert.equal(file?.bytes, (await stat(path.join(dataDir, 'parquet/shop/orders.parquet'))).size);
    assert.equal(result.rows, 2);
    assert.equal(result.schemaChange, undefined);
    assert.equal(result.touchedPartitions, undefined);
    assert.equal(await sha(c.path), chunkSha, 'the staged chunk is never modified');
    assert.deepEqual(await listFiles(path.join(dataDir, 'parquet')), ['shop/orders.parquet']);
  });

  it('unions several chunks by name, casts to the published types and replaces the previous rows', async () => {
    const dataDir = await newDataDir();
    const first = await publisher.publish({ dataDir, table: table(), chunks: [await chunk(`(1, 'old', 1.0, '2023-01-01')`)], mode: 'replace' });
    // The second chunk has no `amount` and stores `id` as INTEGER: published as BIGINT with NULL amounts.
    const a = await chunk(`(10, 'a', 1.5, '2024-01-01'), (11, 'b', 2.5, '2024-01-02')`);
    const b = await chunk(`(12, 'c', '2024-01-03')`, [{ name: 'id', type: 'INTEGER' }, { name: 'status', type: 'VARCHAR' }, { name: 'created', type: 'DATE' }]);
    const result = await publisher.publish({ dataDir, table: table(), chunks: [a, b], mode: 'replace', previous: first });

    const file = path.join(dataDir, 'parquet/shop/orders.parquet');
    assert.deepEqual(await parquetColumns(file), [
      { name: 'id', type: 'BIGINT' }, { name: 'status', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE' }, { name: 'created', type: 'DATE' },
    ]);
    assert.deepEqual(await readParquet(file), [
      { id: '10', status: 'a', amount: 1.5, created: '2024-01-01' },
      { id: '11', status: 'b', amount: 2.5, created: '2024-01-02' },
      { id: '12', status: 'c', amount: null, created: '2024-01-03' },
    ]);
    assert.equal(result.rows, 3);
    assert.notEqual(result.contentHash, first.contentHash);
  });
});

describe('ParquetPublisher incremental upsert', () => {
  it('upserts by primary key: later chunks win over earlier ones and over published rows, duplicates within a chunk too', async () => {
    const dataDir = await newDataDir();
    const t = table({ syncStrategy: 'incremental' });
    const initial = await publisher.publish({ dataDir, table: t, mode: 'replace', chunks: [await chunk(`(3, 'c0', 3.0, '2024-01-03'), (1, 'a0', 1.0, '2024-01-01'), (2, 'b0', 2.0, '2024-01-02')`)] });
    const c1 = await chunk(`(2, 'b1', 2.1, '2024-01-02'), (4, 'd1', 4.1, '2024-01-04')`);
    const c2 = await chunk(`(4, 'd2', 4.2, '2024-01-04'), (5, 'e2-first', 5.0, '2024-01-05'), (5, 'e2-last', 5.2, '2024-01-05')`);
    const result = await publisher.publish({ dataDir, table: t, mode: 'upsert', chunks: [c1, c2], previous: initial });

    // Read in file order: the output is sorted by primary key.
    assert.deepEqual((await readParquet(filesOf(dataDir, result), { orderBy: 'id' })).map((r) => [r.id, r.status]), [
      ['1', 'a0'], ['2', 'b1'], ['3', 'c0'], ['4', 'd2'], ['5', 'e2-last'],
    ]);
    assert.equal(result.rows, 5);
  });

  it('writes a merge with Parquet format 2 encodings, and a replace, whose bytes identify it, with format 1 ones', async () => {
    const dataDir = await newDataDir();
    const t = table({ syncStrategy: 'incremental' });
    // Two chunks, so the replace is a COPY of their union rather than a link of the one chunk.
    const replaced = await publisher.publish({ dataDir, table: t, mode: 'replace', chunks: [await chunk(`(1, 'a0', 1.0, '2024-01-01')`), await chunk(`(2, 'b0', 2.0, '2024-01-02')`)] });
    const encodings = (result: PublishResult): Promise<string> => columnEncodings(filesOf(dataDir, result)[0]!, 'id');
    assert.doesNotMatch(await encodings(replaced), /DELTA/);
    const merged = await publisher.publish({ dataDir, table: t, mode: 'upsert', previous: replaced, chunks: [await chunk(`(2, 'b1', 2.1, '2024-01-02'), (3, 'c1', 3.0, '2024-01-03')`)] });
    assert.match(await encodings(merged), /DELTA_BINARY_PACKED/);
    assert.deepEqual((await readParquet(filesOf(dataDir, merged), { orderBy: 'id' })).map((r) => [r.id, r.status, r.amount]), [['1', 'a0', 1], ['2', 'b1', 2.1], ['3', 'c1', 3]]);
  });

  it('upserts by a composite primary key', async () => {
    const dataDir = await newDataDir();
    const schema: ColumnSchema[] = [{ name: 'shop', type: 'VARCHAR' }, { name: 'day', type: 'DATE' }, { name: 'sales', type: 'BIGINT' }];
    const t = table({ name: 'daily', syncStrategy: 'incremental', primaryKey: ['shop', 'day'] });
    const initial = await publisher.publish({ dataDir, table: t, mode: 'upsert', chunks: [await chunk(`('a', '2024-01-01', 1), ('a', '2024-01-02', 2), ('b', '2024-01-01', 3)`, schema)] });
    const result = await publisher.publish({
      dataDir, table: t, mode: 'upsert', previous: initial,
      chunks: [await chunk(`('a', '2024-01-02', 20), ('b', '2024-01-02', 40), ('b', '2024-01-02', 41)`, schema)],
    });
    assert.deepEqual((await readParquet(filesOf(dataDir, result), { orderBy: 'shop, day' })).map((r) => [r.shop, r.day, r.sales]), [
      ['a', '2024-01-01', '1'], ['a', '2024-01-02', '20'], ['b', '2024-01-01', '3'], ['b', '2024-01-02', '41'],
    ]);
  });

  it('leaves the table as it is when an upsert brings no chunks', async () => {
    const dataDir = await newDataDir();
    const t = table({ syncStrategy: 'incremental', partitionBy: 'created' });
    const initial = await publisher.publish({ dataDir, table: t, mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01')`)] });
    const file = path.join(dataDir, 'parquet/shop/orders/2024_01.parquet');
    const before = (await stat(file)).ino;
    const result = await publisher.publish({ dataDir, table: t, mode: 'upsert', previous: initial, chunks: [] });
    assert.equal(result.contentHash, initial.contentHash);
    assert.deepEqual(result.touchedPartitions, []);
    assert.equal((await stat(file)).ino, before);
  });

  it('appends when the table has no primary key', async () => {
    const dataDir = await newDataDir();
    const t = table({ syncStrategy: 'incremental', primaryKey: [] });
    const initial = await publisher.publish({ dataDir, table: t, mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01')`)] });
    const result = await publisher.publish({ dataDir, table: t, mode: 'upsert', previous: initial, chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01'), (2, 'b', 2.0, '2024-01-02')`)] });
    assert.deepEqual((await readParquet(filesOf(dataDir, result))).map((r) => r.id), ['1', '1', '2']);
  });

  it('fails on a value that does not fit the declared type and leaves the published file as it was', async () => {
    const dataDir = await newDataDir();
    const t = table({ syncStrategy: 'incremental' });
    const initial = await publisher.publish({ dataDir, table: t, mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01')`)] });
    const before = await sha(path.join(dataDir, 'parquet/shop/orders.parquet'));
    // Declared BIGINT, stored as text that is not a number.
    const bad = await chunk(`('x', 'b', 2.0, '2024-01-02')`, [{ name: 'id', type: 'VARCHAR' }, ...ORDER_SCHEMA.slice(1)]);
    await assert.rejects(
      publisher.publish({ dataDir, table: t, mode: 'upsert', previous: initial, chunks: [{ ...bad, schema: ORDER_SCHEMA }] }),
      (err: { code?: string; message: string }) => err.code === 'PUBLISH_FAILED' && err.message.includes('orders'),
    );
    assert.equal(await sha(path.join(dataDir, 'parquet/shop/orders.parquet')), before);
    assert.deepEqual(await listFiles(path.join(dataDir, 'parquet')), ['shop/orders.parquet'], 'no temp file is left behind');
  });
});

describe('ParquetPublisher partitions', () => {
  const monthly = (overrides: Partial<TableConfig> = {}): TableConfig => table({ syncStrategy: 'incremental', partitionBy: 'created', ...overrides });

  it('splits rows by month (NULL dates in __null__), writes a manifest, and rewrites only touched partitions on upsert', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({
      dataDir, table: monthly(), mode: 'replace',
      chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05'), (2, 'b', 2.0, '2024-02-10'), (3, 'c', 3.0, '2024-03-15'), (4, 'd', 4.0, NULL), (5, 'e', 5.0, '2024-01-20')`)],
    });
    assert.deepEqual(initial.files.map((f) => [f.path, f.partition, f.rows]), [
      ['parquet/shop/orders/2024_01.parquet', '2024_01', 2],
      ['parquet/shop/orders/2024_02.parquet', '2024_02', 1],
      ['parquet/shop/orders/2024_03.parquet', '2024_03', 1],
      ['parquet/shop/orders/__null__.parquet', '__null__', 1],
    ]);
    assert.deepEqual(initial.touchedPartitions, ['2024_01', '2024_02', '2024_03', '__null__']);
    const manifest = JSON.parse(await readFile(path.join(dataDir, 'parquet/shop/orders/_manifest.json'), 'utf8')) as PartitionManifest;
    assert.deepEqual(manifest.files.map((f) => [f.file, f.rows, f.sha256]), initial.files.map((f) => [path.basename(f.path), f.rows, f.sha256]));
    assert.equal(manifest.contentHash, initial.contentHash);

    const untouched = ['2024_01', '2024_03', '__null__'].map((k) => path.join(dataDir, `parquet/shop/orders/${k}.parquet`));
    const before = await Promise.all(untouched.map(async (f) => ({ sha: await sha(f), mtime: (await stat(f)).mtimeMs, ino: (await stat(f)).ino })));
    await new Promise((r) => setTimeout(r, 20));
    const result = await publisher.publish({
      dataDir, table: monthly(), mode: 'upsert', previous: initial,
      chunks: [await chunk(`(2, 'b2', 2.5, '2024-02-11'), (6, 'f', 6.0, '2024-02-28')`)],
    });
    assert.deepEqual(result.touchedPartitions, ['2024_02']);
    const after = await Promise.all(untouched.map(async (f) => ({ sha: await sha(f), mtime: (await stat(f)).mtimeMs, ino: (await stat(f)).ino })));
    assert.deepEqual(after, before, 'untouched partition files stay byte-identical and are not rewritten');
    assert.deepEqual((await readParquet(path.join(dataDir, 'parquet/shop/orders/2024_02.parquet'), { orderBy: 'id' })).map((r) => [r.id, r.status]), [['2', 'b2'], ['6', 'f']]);
    assert.equal(result.rows, 6);
  });

  it('moves an updated row whose partition column changed out of its old partition', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({
      dataDir, table: monthly(), mode: 'replace',
      chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05'), (2, 'b', 2.0, '2024-01-06'), (3, 'c', 3.0, '2024-02-01'), (4, 'd', 4.0, '2024-04-01')`)],
    });
    // id 1 moves to March, id 4 (the only row of April) moves to February.
    const result = await publisher.publish({ dataDir, table: monthly(), mode: 'upsert', previous: initial, chunks: [await chunk(`(1, 'a2', 1.0, '2024-03-01'), (4, 'd2', 4.0, '2024-02-02')`)] });
    assert.deepEqual(result.touchedPartitions, ['2024_01', '2024_02', '2024_03', '2024_04']);
    assert.deepEqual(result.files.map((f) => f.partition), ['2024_01', '2024_02', '2024_03']);
    const rows = await readParquet(path.join(dataDir, 'parquet/shop/orders/*.parquet'), { orderBy: 'id' });
    assert.deepEqual(rows.map((r) => [r.id, r.status, r.created]), [
      ['1', 'a2', '2024-03-01'], ['2', 'b', '2024-01-06'], ['3', 'c', '2024-02-01'], ['4', 'd2', '2024-02-02'],
    ]);
    assert.equal((await readdir(path.join(dataDir, 'parquet/shop/orders'))).includes('2024_04.parquet'), false);
  });

  it('records each partition\'s key range and still finds moved rows by composite, string and NULL keys', async () => {
    const dataDir = await newDataDir();
    const composite = monthly({ primaryKey: ['status', 'id'] });
    const initial = await publisher.publish({
      dataDir, table: composite, mode: 'replace',
      chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05'), (2, 'm', 2.0, '2024-01-06'), (3, 'b', 3.0, '2024-02-01'), (4, 'z', 4.0, '2024-02-02'), (NULL, 'n', 5.0, '2024-03-01')`)],
    });
    assert.deepEqual(initial.keyRanges?.['parquet/shop/orders/2024_01.parquet'], [
      { column: 'status', type: 'VARCHAR', min: 'a', max: 'm' }, { column: 'id', type: 'BIGINT', min: '1', max: '2' },
    ]);
    assert.equal(initial.keyRanges?.['parquet/shop/orders/2024_03.parquet'], undefined, 'a file with a NULL key has no range: it is always read');
    // ('m', 2) lies inside January's range and moves to April; ('c', 1) lies inside January's and February's ranges but is new;
    // (NULL 'n') moves from March, which has no range.
    const result = await publisher.publish({
      dataDir, table: composite, mode: 'upsert', previous: initial,
      chunks: [await chunk(`(2, 'm', 9.0, '2024-04-01'), (1, 'c', 9.0, '2024-04-02'), (NULL, 'n', 9.0, '2024-04-03')`)],
    });
    assert.deepEqual(result.touchedPartitions, ['2024_01', '2024_03', '2024_04']);
    const rows = await readParquet(path.join(dataDir, 'parquet/shop/orders/*.parquet'), { orderBy: 'status, id' });
    assert.deepEqual(rows.map((r) => [r.status, r.id, r.created]), [
      ['a', '1', '2024-01-05'], ['b', '3', '2024-02-01'], ['c', '1', '2024-04-02'], ['m', '2', '2024-04-01'], ['n', null, '2024-04-03'], ['z', '4', '2024-02-02'],
    ]);
    // April now holds the NULL key, so it has no range either.
    assert.deepEqual(Object.keys(result.keyRanges ?? {}).sort(), ['parquet/shop/orders/2024_01.parquet', 'parquet/shop/orders/2024_02.parquet']);
    assert.equal(JSON.stringify(result.files).includes('"min"'), false, 'key values stay out of the file list that events carry');
  });

  it('derives a merged partition\'s key range from its old range and the run\'s rows instead of scanning the file', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({
      dataDir, table: monthly(), mode: 'replace',
      chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05'), (5, 'b', 2.0, '2024-01-06'), (10, 'c', 3.0, '2024-02-01'), (20, 'd', 4.0, '2024-02-02')`)],
    });
    // 7 is new in January; 20 moves from February to January, so February is merged without run rows of its own.
    const moved = await publisher.publish({ dataDir, table: monthly(), mode: 'upsert', previous: initial, chunks: [await chunk(`(7, 'x', 5.0, '2024-01-07'), (20, 'y', 6.0, '2024-01-08')`)] });
    assert.deepEqual(moved.touchedPartitions, ['2024_01', '2024_02']);
    assert.deepEqual(moved.keyRanges?.['parquet/shop/orders/2024_01.parquet'], [{ column: 'id', type: 'BIGINT', min: '1', max: '20' }]);
    // February holds only 10 now; its range is the old one, a superset (a scan of the file would say 10..10).
    assert.deepEqual(moved.keyRanges?.['parquet/shop/orders/2024_02.parquet'], [{ column: 'id', type: 'BIGINT', min: '10', max: '20' }]);
    // The superset only costs a read of February's keys: 20 is not there any more, so February stays as it is.
    const februaryBefore = await stat(path.join(dataDir, 'parquet/shop/orders/2024_02.parquet'));
    const again = await publisher.publish({ dataDir, table: monthly(), mode: 'upsert', previous: moved, chunks: [await chunk(`(20, 'z', 7.0, '2024-01-09')`)] });
    assert.deepEqual(again.touchedPartitions, ['2024_01']);
    assert.equal((await stat(path.join(dataDir, 'parquet/shop/orders/2024_02.parquet'))).mtimeMs, februaryBefore.mtimeMs);
    const rows = await readParquet(path.join(dataDir, 'parquet/shop/orders/*.parquet'), { orderBy: 'id' });
    assert.deepEqual(rows.map((r) => [r.id, r.status, r.created]), [
      ['1', 'a', '2024-01-05'], ['5', 'b', '2024-01-06'], ['7', 'x', '2024-01-07'], ['10', 'c', '2024-02-01'], ['20', 'z', '2024-01-09'],
    ]);
  });

  it('does not trust a key range taken under another primary key', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({
      dataDir, table: monthly(), mode: 'replace',
      chunks: [await chunk(`(1, 'x', 1.0, '2024-01-05'), (2, 'y', 2.0, '2024-02-06')`)],
    });
    // Keyed by status now: January's range (ids 1..1) says nothing about status 'x', which moves to March.
    const byStatus = monthly({ primaryKey: ['status'] });
    const result = await publisher.publish({ dataDir, table: byStatus, mode: 'upsert', previous: initial, chunks: [await chunk(`(7, 'x', 7.0, '2024-03-01')`)] });
    assert.deepEqual(result.touchedPartitions, ['2024_01', '2024_03']);
    const rows = await readParquet(path.join(dataDir, 'parquet/shop/orders/*.parquet'), { orderBy: 'id' });
    assert.deepEqual(rows.map((r) => [r.id, r.status]), [['2', 'y'], ['7', 'x']]);
  });

  it('keys partitions by day and by year', async () => {
    const dataDir = await newDataDir();
    const rows = `(1, 'a', 1.0, '2023-12-31'), (2, 'b', 2.0, '2024-01-01'), (3, 'c', 3.0, '2024-01-01')`;
    const daily = await publisher.publish({ dataDir, table: monthly({ name: 'by_day', partitionGranularity: 'day' }), mode: 'replace', chunks: [await chunk(rows)] });
    assert.deepEqual(daily.files.map((f) => f.path), ['parquet/shop/by_day/2023_12_31.parquet', 'parquet/shop/by_day/2024_01_01.parquet']);
    const yearly = await publisher.publish({ dataDir, table: monthly({ name: 'by_year', partitionGranularity: 'year' }), mode: 'replace', chunks: [await chunk(rows)] });
    assert.deepEqual(yearly.files.map((f) => [f.path, f.rows]), [['parquet/shop/by_year/2023.parquet', 1], ['parquet/shop/by_year/2024.parquet', 2]]);
  });

  it('partitions by a TIMESTAMPTZ column on its UTC time', async () => {
    const dataDir = await newDataDir();
    const schema: ColumnSchema[] = [{ name: 'id', type: 'BIGINT' }, { name: 'at', type: 'TIMESTAMPTZ' }];
    const c = await chunk('', schema, `SELECT 1::BIGINT AS id, TIMESTAMPTZ '2024-01-31 23:30:00+00' AS at UNION ALL SELECT 2, TIMESTAMPTZ '2024-01-31 23:30:00-05'`);
    const result = await publisher.publish({ dataDir, table: monthly({ name: 'events', partitionBy: 'at' }), mode: 'replace', chunks: [c] });
    assert.deepEqual(result.files.map((f) => [f.partition, f.rows]), [['2024_01', 1], ['2024_02', 1]]);
  });

  it('partitioned strategy: a full export rewrites the partitions and removes those without rows', async () => {
    const dataDir = await newDataDir();
    const t = monthly({ syncStrategy: 'partitioned' });
    const first = await publisher.publish({ dataDir, table: t, mode: 'replace', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05'), (2, 'b', 2.0, '2024-02-10'), (3, 'c', 3.0, '2024-03-15')`)] });
    const janBefore = await stat(path.join(dataDir, 'parquet/shop/orders/2024_01.parquet'));
    const result = await publisher.publish({ dataDir, table: t, mode: 'replace', previous: first, chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05'), (3, 'c3', 3.0, '2024-03-15')`)] });

    assert.deepEqual(result.files.map((f) => f.partition), ['2024_01', '2024_03']);
    assert.deepEqual(result.touchedPartitions, ['2024_02', '2024_03'], 'January came out byte-identical, so it is not touched');
    assert.deepEqual(await listFiles(path.join(dataDir, 'parquet/shop/orders')), ['2024_01.parquet', '2024_03.parquet', '_manifest.json']);
    assert.equal((await stat(path.join(dataDir, 'parquet/shop/orders/2024_01.parquet'))).ino, janBefore.ino);
    const manifest = JSON.parse(await readFile(path.join(dataDir, 'parquet/shop/orders/_manifest.json'), 'utf8')) as PartitionManifest;
    assert.deepEqual(manifest.files.map((f) => f.partition), ['2024_01', '2024_03']);
    assert.equal(manifest.rows, 2);
  });

  it('keeps the declared type of an all-NULL column so a glob over partitions reads without union_by_name', async () => {
    const dataDir = await newDataDir();
    const schema: ColumnSchema[] = [...ORDER_SCHEMA, { name: 'note', type: 'VARCHAR' }];
    // The chunk stores `note` untyped (DuckDB writes a NULL column as INT32), as a source with an empty column does.
    const c = await chunk('', schema, `SELECT id::BIGINT AS id, 'x' AS status, 1.0::DOUBLE AS amount, created::DATE AS created, NULL AS note
      FROM (VALUES (1, '2024-01-01'), (2, '2024-02-01')) t(id, created)`);
    assert.equal((await parquetColumns(c.path)).find((col) => col.name === 'note')?.type, 'INTEGER');
    const result = await publisher.publish({ dataDir, table: monthly(), mode: 'replace', chunks: [c] });
    for (const file of filesOf(dataDir, result)) {
      assert.equal((await parquetColumns(file)).find((col) => col.name === 'note')?.type, 'VARCHAR');
    }
    const glob = path.join(dataDir, 'parquet/shop/orders/*.parquet');
    assert.deepEqual((await readParquet(glob, { orderBy: 'id' })).map((r) => [r.id, r.note]), [['1', null], ['2', null]]);
  });

  it('rewrites every partition with the new column as typed NULL when a column is added', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({ dataDir, table: monthly(), mode: 'replace', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05'), (2, 'b', 2.0, '2024-02-10')`)] });
    const schema: ColumnSchema[] = [...ORDER_SCHEMA, { name: 'channel', type: 'VARCHAR' }];
    const result = await publisher.publish({ dataDir, table: monthly(), mode: 'upsert', previous: initial, chunks: [await chunk(`(3, 'c', 3.0, '2024-02-11', 'web')`, schema)] });

    assert.deepEqual(result.schemaChange, { added: [{ name: 'channel', type: 'VARCHAR' }], dropped: [], retyped: [] });
    assert.deepEqual(result.touchedPartitions, ['2024_01', '2024_02']);
    for (const file of filesOf(dataDir, result)) {
      assert.deepEqual((await parquetColumns(file)).map((c) => `${c.name}:${c.type}`), ['id:BIGINT', 'status:VARCHAR', 'amount:DOUBLE', 'created:DATE', 'channel:VARCHAR']);
    }
    const rows = await readParquet(path.join(dataDir, 'parquet/shop/orders/*.parquet'), { orderBy: 'id' });
    assert.deepEqual(rows.map((r) => [r.id, r.channel]), [['1', null], ['2', null], ['3', 'web']]);
  });
});

describe('ParquetPublisher layout and naming', () => {
  it('re-lays out a table whose configuration gained partition_by, keeping its rows', async () => {
    const dataDir = await newDataDir();
    const t = table({ syncStrategy: 'incremental' });
    const single = await publisher.publish({ dataDir, table: t, mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05'), (2, 'b', 2.0, '2024-02-10')`)] });
    const result = await publisher.publish({
      dataDir, table: { ...t, partitionBy: 'created' }, mode: 'upsert', previous: single,
      chunks: [await chunk(`(2, 'b2', 2.0, '2024-03-01'), (3, 'c', 3.0, '2024-03-02')`)],
    });
    assert.deepEqual(result.files.map((f) => [f.partition, f.rows]), [['2024_01', 1], ['2024_03', 2]]);
    assert.deepEqual(await listFiles(path.join(dataDir, 'parquet')), ['shop/orders/2024_01.parquet', 'shop/orders/2024_03.parquet', 'shop/orders/_manifest.json']);
    const rows = await readParquet(path.join(dataDir, 'parquet/shop/orders/*.parquet'), { orderBy: 'id' });
    assert.deepEqual(rows.map((r) => [r.id, r.status]), [['1', 'a'], ['2', 'b2'], ['3', 'c']]);

    const back = await publisher.publish({ dataDir, table: t, mode: 'upsert', previous: result, chunks: [await chunk(`(4, 'd', 4.0, '2024-04-01')`)] });
    assert.deepEqual(back.files.map((f) => f.path), ['parquet/shop/orders.parquet']);
    assert.deepEqual(await listFiles(path.join(dataDir, 'parquet')), ['shop/orders.parquet'], 'partition files and manifest are gone');
    assert.deepEqual((await readParquet(filesOf(dataDir, back), { orderBy: 'id' })).map((r) => r.id), ['1', '2', '3', '4']);
  });

  it('moves a partitioned table to a new folder, leaving nothing behind in the old one', async () => {
    const dataDir = await newDataDir();
    const t = table({ syncStrategy: 'incremental', partitionBy: 'created' });
    const before = await publisher.publish({ dataDir, table: t, mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-05')`)] });
    const moved = await publisher.publish({ dataDir, table: { ...t, folder: 'sales' }, mode: 'upsert', previous: before, chunks: [await chunk(`(2, 'b', 2.0, '2024-02-10')`)] });
    assert.deepEqual(moved.files.map((f) => f.path), ['parquet/sales/orders/2024_01.parquet', 'parquet/sales/orders/2024_02.parquet']);
    assert.deepEqual(await listFiles(path.join(dataDir, 'parquet')), ['sales/orders/2024_01.parquet', 'sales/orders/2024_02.parquet', 'sales/orders/_manifest.json']);
  });

  it('quotes column names and paths that need it', async () => {
    const dataDir = path.join(await newDataDir(), "it's here");
    const schema: ColumnSchema[] = [{ name: 'order id', type: 'BIGINT' }, { name: 'Say "hi"', type: 'VARCHAR' }, { name: 'day', type: 'DATE' }];
    const t = table({ name: 'quoted', primaryKey: ['order id'], partitionBy: 'day' });
    const c1 = await chunk('', schema, `SELECT 1::BIGINT AS "order id", 'a' AS "Say ""hi""", DATE '2024-01-01' AS day`);
    const first = await publisher.publish({ dataDir, table: t, mode: 'replace', chunks: [c1] });
    const c2 = await chunk('', schema, `SELECT 1::BIGINT AS "order id", 'b' AS "Say ""hi""", DATE '2024-01-02' AS day`);
    const result = await publisher.publish({ dataDir, table: t, mode: 'upsert', previous: first, chunks: [c2] });
    assert.deepEqual(await readParquet(filesOf(dataDir, result)), [{ 'order id': '1', 'Say "hi"': 'b', day: '2024-01-02' }]);
  });

  it('publishes an empty table (declared columns first, then the published ones) when a replace brings no chunks', async () => {
    const dataDir = await newDataDir();
    const t = table({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] });
    const result = await publisher.publish({ dataDir, table: t, mode: 'replace', chunks: [] });
    assert.equal(result.rows, 0);
    assert.deepEqual(await parquetColumns(path.join(dataDir, 'parquet/shop/orders.parquet')), [{ name: 'id', type: 'BIGINT' }, { name: 'name', type: 'VARCHAR' }]);
    const filled = await publisher.publish({ dataDir, table: t, mode: 'replace', previous: result, chunks: [await chunk(`(1, 'a')`, [{ name: 'id', type: 'BIGINT' }, { name: 'name', type: 'VARCHAR' }])] });
    const emptied = await publisher.publish({ dataDir, table: t, mode: 'replace', previous: filled, chunks: [] });
    assert.equal(emptied.rows, 0);
    assert.equal(emptied.schemaChange, undefined);
    assert.equal(emptied.contentHash, result.contentHash, 'an emptied table has the bytes of an empty one');
  });
});

describe('ParquetPublisher schema changes', () => {
  const incremental = (overrides: Partial<TableConfig> = {}): TableConfig => table({ syncStrategy: 'incremental', ...overrides });
  const file = (dataDir: string): string => path.join(dataDir, 'parquet/shop/orders.parquet');

  it('adds a column (older rows read NULL) and keeps a column the chunks dropped, NULL for new rows', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({ dataDir, table: incremental(), mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01')`)] });
    const schema: ColumnSchema[] = [{ name: 'id', type: 'BIGINT' }, { name: 'status', type: 'VARCHAR' }, { name: 'created', type: 'DATE' }, { name: 'channel', type: 'VARCHAR' }];
    const result = await publisher.publish({ dataDir, table: incremental(), mode: 'upsert', previous: initial, chunks: [await chunk(`(2, 'b', '2024-01-02', 'web')`, schema)] });

    assert.deepEqual(result.schemaChange, { added: [{ name: 'channel', type: 'VARCHAR' }], dropped: [], retyped: [] });
    assert.deepEqual(result.schema.map((c) => c.name), ['id', 'status', 'amount', 'created', 'channel']);
    assert.deepEqual((await readParquet(file(dataDir))).map((r) => [r.id, r.amount, r.channel]), [['1', 1, null], ['2', null, 'web']]);
  });

  it('drops a column the chunks no longer have on a full refresh', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({ dataDir, table: table(), mode: 'replace', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01')`)] });
    const schema: ColumnSchema[] = [{ name: 'id', type: 'BIGINT' }, { name: 'status', type: 'VARCHAR' }];
    const result = await publisher.publish({ dataDir, table: table(), mode: 'replace', previous: initial, chunks: [await chunk(`(1, 'a')`, schema)] });
    assert.deepEqual(result.schemaChange, { added: [], dropped: [{ name: 'amount', type: 'DOUBLE' }, { name: 'created', type: 'DATE' }], retyped: [] });
    assert.deepEqual((await parquetColumns(file(dataDir))).map((c) => c.name), ['id', 'status']);
  });

  it('widens BIGINT to DOUBLE and DATE to TIMESTAMP, casting the published rows', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({ dataDir, table: incremental(), mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01')`)] });
    const schema: ColumnSchema[] = [{ name: 'id', type: 'DOUBLE' }, { name: 'status', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE' }, { name: 'created', type: 'TIMESTAMP' }];
    const result = await publisher.publish({ dataDir, table: incremental(), mode: 'upsert', previous: initial, chunks: [await chunk(`(2.5, 'b', 2.0, '2024-01-02 10:00:00')`, schema)] });

    assert.deepEqual(result.schemaChange?.retyped, [{ name: 'id', from: 'BIGINT', to: 'DOUBLE' }, { name: 'created', from: 'DATE', to: 'TIMESTAMP' }]);
    assert.deepEqual((await parquetColumns(file(dataDir))).map((c) => c.type), ['DOUBLE', 'VARCHAR', 'DOUBLE', 'TIMESTAMP']);
    assert.deepEqual((await readParquet(file(dataDir))).map((r) => [r.id, r.created]), [[1, '2024-01-01 00:00:00'], [2.5, '2024-01-02 10:00:00']]);
  });

  it('refuses an unsafe type change with SCHEMA_INCOMPATIBLE and leaves the published file untouched; evolve turns it into VARCHAR', async () => {
    const dataDir = await newDataDir();
    const initial = await publisher.publish({ dataDir, table: incremental(), mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01')`)] });
    const before = { sha: await sha(file(dataDir)), mtime: (await stat(file(dataDir))).mtimeMs };
    const schema: ColumnSchema[] = [ORDER_SCHEMA[0]!, ORDER_SCHEMA[1]!, { name: 'amount', type: 'VARCHAR' }, ORDER_SCHEMA[3]!];
    const c = await chunk(`(2, 'b', 'n/a', '2024-01-02')`, schema);

    await assert.rejects(
      publisher.publish({ dataDir, table: incremental(), mode: 'upsert', previous: initial, chunks: [c] }),
      (err: { code?: string; message: string }) => err.code === 'SCHEMA_INCOMPATIBLE' && /table orders: column amount changed from DOUBLE to VARCHAR/.test(err.message),
    );
    assert.deepEqual({ sha: await sha(file(dataDir)), mtime: (await stat(file(dataDir))).mtimeMs }, before);
    assert.deepEqual(await listFiles(path.join(dataDir, 'parquet')), ['shop/orders.parquet']);

    const evolved = await publisher.publish({ dataDir, table: incremental({ schemaPolicy: 'evolve' }), mode: 'upsert', previous: initial, chunks: [c] });
    assert.deepEqual(evolved.schemaChange?.retyped, [{ name: 'amount', from: 'DOUBLE', to: 'VARCHAR' }]);
    assert.deepEqual((await readParquet(file(dataDir))).map((r) => r.amount), ['1.0', 'n/a']);
  });

  it('freeze refuses any change, even an added column', async () => {
    const dataDir = await newDataDir();
    const frozen = incremental({ schemaPolicy: 'freeze' });
    const initial = await publisher.publish({ dataDir, table: frozen, mode: 'upsert', chunks: [await chunk(`(1, 'a', 1.0, '2024-01-01')`)] });
    const before = await sha(file(dataDir));
    const schema: ColumnSchema[] = [...ORDER_SCHEMA, { name: 'channel', type: 'VARCHAR' }];
    await assert.rejects(
      publisher.publish({ dataDir, table: frozen, mode: 'upsert', previous: initial, chunks: [await chunk(`(2, 'b', 2.0, '2024-01-02', 'web')`, schema)] }),
      (err: { code?: string; message: string }) => err.code === 'SCHEMA_INCOMPATIBLE' && err.message.includes('channel') && err.message.includes('freeze'),
    );
    assert.equal(await sha(file(dataDir)), before);
    const same = await publisher.publish({ dataDir, table: frozen, mode: 'upsert', previous: initial, chunks: [await chunk(`(2, 'b', 2.0, '2024-01-02')`)] });
    assert.equal(same.schemaChange, undefined);
    assert.equal(same.rows, 2);
  });
});

describe('ParquetPublisher lifecycle', () => {
  it('refuses calls after close', async () => {
    const p = await ParquetPublisher.create();
    await p.close();
    await assert.rejects(p.publish({ dataDir: root, table: table(), chunks: [], mode: 'replace' }), (err: { code?: string }) => err.code === 'CLOSED');
    await assert.rejects(p.recover(root), (err: { code?: string }) => err.code === 'CLOSED');
  });
});
