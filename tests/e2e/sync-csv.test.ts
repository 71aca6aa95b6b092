import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLogReader, hashFile } from '../../events/index.ts';
import type { RecordedEvent } from '../../events/index.ts';
import { runCli } from '../helpers/cli.ts';
import { csvInstance, query } from '../helpers/instance.ts';

async function eventsOf(dataDir: string): Promise<RecordedEvent[]> {
  return lastValueFrom(new EventLogReader(path.join(dataDir, 'events')).read$(1).pipe(toArray()));
}

async function sync(flags: string[], ...tables: string[]) {
  const result = await runCli(['sync', ...flags, '--json', ...tables.flatMap((t) => ['--table', t])]);
  return { ...result, json: JSON.parse(result.stdout || '{}') as { ok: boolean; tables: Array<{ table: string; status: string; rows: number; error?: { code: string; message: string } }> } };
}

const ORDERS = `  - id: csv.shop.orders
    name: orders
    description: Orders of the shop
    primary_key: order_id
    sync_strategy: full_refresh
    file: orders.csv
    columns:
      - {name: order_id, type: INTEGER, description: Order number}
      - {name: customer, type: STRING}
      - {name: amount, type: NUMERIC}
      - {name: paid, type: BOOLEAN}
      - {name: ordered_on, type: DATE}
`;

describe('ada sync: CSV to Parquet end to end', () => {
  it('full_refresh publishes typed Parquet, replaces it on the next run, and writes the catalog and sync state', async (t) => {
    const inst = await csvInstance(t, ORDERS);
    await inst.writeCsv('orders.csv', 'order_id,customer,amount,paid,ordered_on\n1,"Smith, Anna",10.5,yes,2024-01-05\n2,"Multi\nline",,no,\n3,Bob,7,true,0000-00-00\n');
    const first = await sync(inst.flags);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(first.json.tables[0]!.rows, 3);
    const file = path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet');
    const rows = await query(`SELECT * FROM read_parquet('${file}') ORDER BY order_id`);
    assert.deepEqual(rows.map((r) => [r.order_id, r.customer, r.amount, r.paid]), [[1, 'Smith, Anna', 10.5, true], [2, 'Multi\nline', null, false], [3, 'Bob', 7, true]]);
    assert.equal(rows[2]!.ordered_on, null);
    const types = await query(`SELECT name, type FROM parquet_schema('${file}') WHERE name <> 'duckdb_schema'`);
    assert.deepEqual(types.map((r) => r.name), ['order_id', 'customer', 'amount', 'paid', 'ordered_on']);

    await inst.writeCsv('orders.csv', 'order_id,customer,amount,paid,ordered_on\n9,Zoe,1,no,2024-02-01\n');
    assert.equal((await sync(inst.flags)).code, 0);
    assert.deepEqual((await query(`SELECT order_id FROM '${file}'`)).map((r) => r.order_id), [9]);

    const schemaYml = await readFile(path.join(inst.dataDir, 'docs', 'schema.yml'), 'utf8');
    assert.match(schemaYml, /name: orders/);
    assert.match(schemaYml, /description: Order number/);
    const page = await readFile(path.join(inst.dataDir, 'docs', 'tables', 'orders.md'), 'utf8');
    assert.match(page, /# orders/);
    assert.match(page, /Orders of the shop/);
    const state = JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'sync_state.json'), 'utf8')) as { tables: Record<string, { lastSuccess: { rows: number }; published: { rows: number } }> };
    assert.equal(state.tables.orders!.published.rows, 1);
    const types2 = (await eventsOf(inst.dataDir)).map((e) => e.type);
    assert.deepEqual(types2.slice(0, 5), ['SyncStarted', 'TableChunkStaged', 'TableStagingCompleted', 'TablePublished', 'SyncSucceeded']);
  });

  it('incremental upserts by a composite key (latest wins) and stages only changed files', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.shop.lines
    name: lines
    description: Order lines
    primary_key: "order_id, line_no"
    sync_strategy: incremental
    file: "lines/*.csv"
    columns:
      - {name: order_id, type: INTEGER}
      - {name: line_no, type: INTEGER}
      - {name: qty, type: INTEGER}
`);
    await inst.writeCsv('lines/a.csv', 'order_id,line_no,qty\n1,1,5\n1,2,6\n2,1,7\n');
    assert.equal((await sync(inst.flags)).code, 0);
    await inst.writeCsv('lines/b.csv', 'order_id,line_no,qty\n1,2,60\n3,1,8\n');
    const second = await sync(inst.flags);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json.tables[0]!.rows, 2, 'only the new file is staged');
    const file = path.join(inst.dataDir, 'parquet', 'shop', 'lines.parquet');
    const rows = await query(`SELECT order_id, line_no, qty FROM '${file}' ORDER BY 1, 2`);
    assert.deepEqual(rows.map((r) => [r.order_id, r.line_no, r.qty]), [[1, 1, 5], [1, 2, 60], [2, 1, 7], [3, 1, 8]]);
    const third = await sync(inst.flags);
    assert.equal(third.json.tables[0]!.rows, 0, 'nothing changed, nothing staged');
    assert.equal((await query(`SELECT count(*) AS n FROM '${file}'`))[0]!.n, 4);
  });

  it('partition_by month writes one file per month and rewrites only the touched ones', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.shop.events
    name: events
    description: Events
    primary_key: id
    sync_strategy: incremental
    partition_by: at
    partition_granularity: month
    file: "events/*.csv"
    columns:
      - {name: id, type: INTEGER}
      - {name: at, type: TIMESTAMP}
      - {name: score, type: INTEGER}
`);
    await inst.writeCsv('events/1.csv', 'id,at,score\n1,2024-01-03 10:00:00,\n2,2024-02-03 10:00:00,\n3,2024-03-03 10:00:00,\n');
    assert.equal((await sync(inst.flags)).code, 0);
    const dir = path.join(inst.dataDir, 'parquet', 'shop', 'events');
    const names = (await readdir(dir)).filter((n) => n.endsWith('.parquet')).sort();
    assert.deepEqual(names, ['2024_01.parquet', '2024_02.parquet', '2024_03.parquet']);
    const before = await hashFile(path.join(dir, '2024_01.parquet'));
    const beforeMarch = await hashFile(path.join(dir, '2024_03.parquet'));
    await inst.writeCsv('events/2.csv', 'id,at,score\n3,2024-03-09 10:00:00,30\n4,2024-04-01 00:00:00,40\n');
    assert.equal((await sync(inst.flags)).code, 0);
    assert.deepEqual(await hashFile(path.join(dir, '2024_01.parquet')), before, 'untouched partition is byte-identical');
    assert.notDeepEqual(await hashFile(path.join(dir, '2024_03.parquet')), beforeMarch);
    const all = await query(`SELECT id, score FROM read_parquet('${dir}/*.parquet') ORDER BY id`);
    assert.deepEqual(all.map((r) => [r.id, r.score]), [[1, null], [2, null], [3, 30], [4, 40]]);
    // The all-null column kept its declared type in every partition: a glob reads without union_by_name.
    const types = await query(`SELECT DISTINCT type FROM parquet_schema('${dir}/*.parquet') WHERE name = 'score'`);
    assert.deepEqual(types.map((r) => r.type), ['INT64']);
  });

  it('partitioned splits a full export and drops partitions that vanished', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.web.hits
    name: hits
    description: Hits by day
    sync_strategy: partitioned
    partition_by: day
    partition_granularity: day
    file: hits.csv
    columns:
      - {name: day, type: DATE}
      - {name: hits, type: INTEGER}
`);
    await inst.writeCsv('hits.csv', 'day,hits\n2025-01-01,1\n2025-01-02,2\n');
    assert.equal((await sync(inst.flags)).code, 0);
    const dir = path.join(inst.dataDir, 'parquet', 'web', 'hits');
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.parquet')).sort(), ['2025_01_01.parquet', '2025_01_02.parquet']);
    await inst.writeCsv('hits.csv', 'day,hits\n2025-01-02,20\n2025-01-03,3\n');
    assert.equal((await sync(inst.flags)).code, 0);
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.parquet')).sort(), ['2025_01_02.parquet', '2025_01_03.parquet']);
    assert.deepEqual((await query(`SELECT hits FROM read_parquet('${dir}/*.parquet') ORDER BY day`)).map((r) => r.hits), [20, 3]);
  });

  it('where_filters with a date placeholder keep only matching rows', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.shop.recent
    name: recent
    description: Recent rows only
    file: recent.csv
    where_filters:
      - {column: day, operator: ge, values: ["{{last_year}}"]}
      - {column: kind, operator: eq, values: [a, b]}
    columns:
      - {name: day, type: DATE}
      - {name: kind, type: STRING}
`);
    await inst.writeCsv('recent.csv', 'day,kind\n2001-01-01,a\n2999-01-01,a\n2999-01-01,b\n2999-01-01,c\n');
    assert.equal((await sync(inst.flags)).code, 0);
    const rows = await query(`SELECT kind FROM '${path.join(inst.dataDir, 'parquet', 'shop', 'recent.parquet')}' ORDER BY kind`);
    assert.deepEqual(rows.map((r) => r.kind), ['a', 'b']);
  });

  it('replay rebuilds the Parquet projection with the same content hashes', async (t) => {
    const inst = await csvInstance(t, `${ORDERS}  - id: csv.shop.lines
    name: lines
    description: Order lines
    primary_key: "order_id, line_no"
    sync_strategy: incremental
    partition_by: ordered_at
    file: "lines/*.csv"
    columns:
      - {name: order_id, type: INTEGER}
      - {name: line_no, type: INTEGER}
      - {name: ordered_at, type: DATE}
`);
    await inst.writeCsv('orders.csv', 'order_id,customer,amount,paid,ordered_on\n1,A,1,yes,2024-01-01\n');
    await inst.writeCsv('lines/1.csv', 'order_id,line_no,ordered_at\n1,1,2024-01-01\n1,2,2024-02-01\n');
    assert.equal((await sync(inst.flags)).code, 0);
    await inst.writeCsv('lines/2.csv', 'order_id,line_no,ordered_at\n1,2,2024-02-02\n2,1,2024-03-01\n');
    assert.equal((await sync(inst.flags)).code, 0);
    const published = (await eventsOf(inst.dataDir)).filter((e) => e.type === 'TablePublished');
    const last = (table: string) => published.filter((e) => e.type === 'TablePublished' && e.data.table === table).at(-1)!;
    // Files whose bytes are reproducible (copies, full writes) must come back byte for byte; merges by their rows.
    const filesBefore = new Map<string, string>();
    for (const table of ['orders', 'lines']) {
      const e = last(table);
      if (e.type !== 'TablePublished') continue;
      for (const f of e.data.files) if (!f.contentSha) filesBefore.set(f.path, (await hashFile(path.join(inst.dataDir, f.path))).sha256);
    }
    assert.ok(filesBefore.size > 0);
    await rm(path.join(inst.dataDir, 'parquet'), { recursive: true, force: true });
    const replay = await runCli(['replay', '--projection', 'parquet', ...inst.flags]);
    assert.equal(replay.code, 0, replay.stderr);
    assert.doesNotMatch(replay.stderr, /content hash/);
    for (const [file, sha] of filesBefore) assert.equal((await hashFile(path.join(inst.dataDir, file))).sha256, sha, `${file} differs after replay`);
    for (const table of ['orders', 'lines']) {
      const e = last(table);
      const rebuilt = JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'published', `${table}.json`), 'utf8')) as { contentHash: string };
      assert.equal(rebuilt.contentHash, e.type === 'TablePublished' ? e.data.contentHash : '', `${table}: same content hash after replay`);
    }
    const after = (await eventsOf(inst.dataDir)).filter((e) => e.type === 'TablePublished');
    assert.equal(after.length, published.length, 'replay appends no new TablePublished');
  });

  it('bad input fails only that table, names file, line and column, and keeps its previous Parquet', async (t) => {
    const inst = await csvInstance(t, `${ORDERS}  - id: csv.shop.good
    name: good
    description: Unrelated table that still syncs
    file: good.csv
`);
    await inst.writeCsv('orders.csv', 'order_id,customer,amount,paid,ordered_on\n1,A,1,yes,2024-01-01\n');
    await inst.writeCsv('good.csv', 'a,b\n1,2\n');
    assert.equal((await sync(inst.flags)).code, 0);
    const file = path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet');
    const cases: Array<[string, string | Buffer | undefined, RegExp]> = [
      ['wrong field count', 'order_id,customer,amount,paid,ordered_on\n1,A,1,yes,2024-01-01\n2,B,2\n', /orders\.csv.*line 3/],
      ['type mismatch', 'order_id,customer,amount,paid,ordered_on\n1,A,1,yes,2024-01-01\nx2,B,2,no,2024-01-01\n', /orders\.csv.*line 3.*order_id/],
      ['invalid UTF-8', Buffer.concat([Buffer.from('order_id,customer,amount,paid,ordered_on\n1,'), Buffer.from([0xc3, 0x28]), Buffer.from(',1,yes,2024-01-01\n')]), /orders\.csv.*(UTF-8|unicode)/i],
      ['missing file', undefined, /orders\.csv/],
    ];
    for (const [name, content, pattern] of cases) {
      if (content === undefined) await rm(path.join(inst.csvDir, 'orders.csv'));
      else await inst.writeCsv('orders.csv', content as string);
      await inst.writeCsv('good.csv', `a,b\n1,2\n${name.length},3\n`);
      const result = await sync(inst.flags);
      assert.equal(result.code, 1, `${name}: exit code`);
      const orders = result.json.tables.find((x) => x.table === 'orders')!;
      assert.equal(orders.status, 'failed', name);
      assert.match(orders.error!.message, pattern, `${name}: ${orders.error!.message}`);
      assert.equal(result.json.tables.find((x) => x.table === 'good')!.status, 'succeeded', `${name}: other tables still sync`);
      assert.deepEqual((await query(`SELECT order_id FROM '${file}'`)).map((r) => r.order_id), [1], `${name}: previous Parquet stays`);
      const failed = (await eventsOf(inst.dataDir)).filter((e) => e.type === 'SyncFailed').at(-1)!;
      assert.ok(failed.type === 'SyncFailed' && failed.data.table === 'orders' && pattern.test(failed.data.error.message), `${name}: SyncFailed recorded`);
    }
    const state = JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'sync_state.json'), 'utf8')) as { tables: Record<string, { consecutiveFailures: number; lastRun: { status: string } }> };
    assert.equal(state.tables.orders!.lastRun.status, 'failed');
    assert.equal(state.tables.orders!.consecutiveFailures, 4);
    // No temp files are left behind.
    assert.deepEqual((await readdir(path.join(inst.dataDir, 'parquet', 'shop'))).filter((n) => n.includes('.tmp')), []);
    await stat(file);
  });

  it('unknown --table names exit 2 and list the configured tables', async (t) => {
    const inst = await csvInstance(t, ORDERS);
    const result = await runCli(['sync', ...inst.flags, '--table', 'nope']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown table nope; configured: orders/);
  });
});
