import assert from 'node:assert/strict';
import { stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { fileURLToPath } from 'node:url';
import { csvInstance, query } from '../helpers/instance.ts';
import { epochOf, OFFSET_INSTANTS } from '../helpers/instants.ts';
import { tempDir } from '../helpers/tmp.ts';

const DEMO_CONFIG = fileURLToPath(new URL('../../examples/demo', import.meta.url));

interface SyncJson { ok: boolean; tables: Array<{ table: string; status: string; rows: number; error?: { code: string; message: string; file?: string; line?: number } }> }

async function sync(flags: string[], ...tables: string[]) {
  const result = await runCli(['sync', ...flags, '--json', ...tables.flatMap((t) => ['--table', t])]);
  return { ...result, json: JSON.parse(result.stdout || '{}') as SyncJson };
}

const INSTANTS = OFFSET_INSTANTS;

describe('ada sync: CSV values with a UTC offset are the right instants', () => {
  it('publishes declared TIMESTAMP, declared TIMESTAMP_TZ and detected columns as the instants the text names', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.shop.events
    name: events
    description: Events with declared types
    file: events.csv
    columns:
      - {name: id, type: INTEGER}
      - {name: at, type: TIMESTAMP}
      - {name: at_tz, type: TIMESTAMP_TZ}
  - id: csv.shop.detected
    name: detected
    description: Events with detected types
    file: events.csv
`);
    const lines = INSTANTS.map((v, i) => `${i + 1},${v},${v}`);
    await inst.writeCsv('events.csv', `id,at,at_tz\n${lines.join('\n')}\n`);
    const result = await sync(inst.flags);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const expected = INSTANTS.map(epochOf);
    for (const name of ['events', 'detected']) {
      const file = path.join(inst.dataDir, 'parquet', 'shop', `${name}.parquet`);
      const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
      const at = name === 'events' ? 'TIMESTAMP' : 'TIMESTAMP WITH TIME ZONE';
      assert.deepEqual(types.map((r) => `${r.column_name}:${r.column_type}`), ['id:BIGINT', `at:${at}`, 'at_tz:TIMESTAMP WITH TIME ZONE'], name);
      const rows = await query(`SELECT epoch("at") AS "at", epoch(at_tz) AS at_tz FROM read_parquet('${file}') ORDER BY id`);
      assert.deepEqual(rows.map((r) => r.at), expected, `${name}.at`);
      assert.deepEqual(rows.map((r) => r.at_tz), expected, `${name}.at_tz`);
    }
  });
});

describe('ada sync: partitions of text timestamps with an offset', () => {
  it('keys a row by the UTC month of its instant', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.shop.visits
    name: visits
    description: Visits partitioned by a text column
    file: visits.csv
    sync_strategy: partitioned
    partition_by: at
    columns:
      - {name: id, type: INTEGER}
      - {name: at, type: STRING}
`);
    await inst.writeCsv('visits.csv', 'id,at\n1,2025-11-30T23:30:00-05:00\n2,2025-12-01T00:30:00+01:00\n3,2025-11-15 10:00:00\n');
    const result = await sync(inst.flags);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const dir = path.join(inst.dataDir, 'parquet', 'shop', 'visits');
    const ids = async (key: string) => (await query(`SELECT CAST(id AS INTEGER) AS id FROM read_parquet('${path.join(dir, `${key}.parquet`)}') ORDER BY id`)).map((r) => r.id);
    assert.deepEqual(await ids('2025_12'), [1], '2025-11-30T23:30-05:00 is 2025-12-01 04:30 UTC');
    assert.deepEqual(await ids('2025_11'), [2, 3], '2025-12-01T00:30+01:00 is 2025-11-30 23:30 UTC');
  });
});

describe('ada sync: csv.null', () => {
  it('reads empty fields as NULL in text columns when csv.null is ""', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.shop.customers
    name: customers
    description: Customers
    file: customers.csv
    csv:
      "null": ""
    columns:
      - {name: id, type: INTEGER}
      - {name: notes, type: STRING}
  - id: csv.shop.plain
    name: plain
    description: Customers without csv.null
    file: customers.csv
    columns:
      - {name: id, type: INTEGER}
      - {name: notes, type: STRING}
`);
    await inst.writeCsv('customers.csv', 'id,notes\n1,hello\n2,\n3,""\n');
    const result = await sync(inst.flags);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const notes = async (name: string) => (await query(`SELECT notes FROM read_parquet('${path.join(inst.dataDir, 'parquet', 'shop', `${name}.parquet`)}') ORDER BY id`)).map((r) => r.notes);
    assert.deepEqual(await notes('customers'), ['hello', null, null]);
    assert.deepEqual(await notes('plain'), ['hello', '', ''], 'without csv.null, text columns keep empty strings');
  });
});

describe('ada sync: csv.null in the demo', () => {
  it('publishes the demo customers\' empty notes as NULL, as its description says', async (t) => {
    const dataDir = path.join(await tempDir(t, 'ada-demo-null-'), 'data');
    const result = await sync(['--config', DEMO_CONFIG, '--data', dataDir], 'customers');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const file = path.join(dataDir, 'parquet', 'sales', 'customers.parquet');
    const [counts] = await query(`SELECT count(*) FILTER (WHERE notes IS NULL) AS nulls, count(*) FILTER (WHERE notes = '') AS empty FROM read_parquet('${file}')`);
    assert.deepEqual(counts, { nulls: 349, empty: 0 });
  });
});

describe('ada sync: incremental CSV change detection', () => {
  it('picks up a file rewritten with the same size and modification time', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.shop.orders
    name: orders
    description: Orders
    primary_key: id
    sync_strategy: incremental
    file: "orders/*.csv"
    columns:
      - {name: id, type: INTEGER}
      - {name: qty, type: INTEGER}
`);
    await inst.writeCsv('orders/a.csv', 'id,qty\n1,5\n2,6\n');
    const file = path.join(inst.csvDir, 'orders', 'a.csv');
    // Whole seconds, so setting the same time again restores it exactly (as `touch -r` does).
    const mtime = 1_750_000_000;
    await utimes(file, mtime, mtime);
    const before = await stat(file);
    assert.equal((await sync(inst.flags)).code, 0);
    await writeFile(file, 'id,qty\n1,7\n3,8\n');
    await utimes(file, mtime, mtime);
    const after = await stat(file);
    assert.equal(after.size, before.size);
    assert.equal(after.mtimeMs, before.mtimeMs);
    const second = await sync(inst.flags);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const rows = await query(`SELECT id, qty FROM read_parquet('${path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet')}') ORDER BY id`);
    assert.deepEqual(rows, [{ id: 1, qty: 7 }, { id: 2, qty: 6 }, { id: 3, qty: 8 }]);
  });
});

describe('ada sync: CSV files that used to fail without saying where', () => {
  it('accepts a CRLF file whose last line ends in LF, with and without declared columns', async (t) => {
    const inst = await csvInstance(t, `  - id: csv.shop.typed
    name: typed
    description: Declared columns
    file: mixed.csv
    columns:
      - {name: id, type: INTEGER}
      - {name: note, type: STRING}
  - id: csv.shop.detected
    name: detected
    description: Detected columns
    file: mixed.csv
`);
    await inst.writeCsv('mixed.csv', 'id,note\r\n1,a\r\n2,"two\r\nlines"\r\n3,c\n');
    const result = await sync(inst.flags);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const name of ['typed', 'detected']) {
      const rows = await query(`SELECT CAST(id AS INTEGER) AS id, note FROM read_parquet('${path.join(inst.dataDir, 'parquet', 'shop', `${name}.parquet`)}') ORDER BY id`);
      assert.deepEqual(rows, [{ id: 1, note: 'a' }, { id: 2, note: 'two\r\nlines' }, { id: 3, note: 'c' }], name);
    }
  });

  it('names file, line and limit for a field longer than max_line_size, and reads it once csv.max_line_size is raised', async (t) => {
    const table = (extra: string) => `  - id: csv.shop.big
    name: big
    description: A huge field
    file: big.csv
${extra}    columns:
      - {name: id, type: INTEGER}
      - {name: note, type: STRING}
`;
    const inst = await csvInstance(t, table(''));
    const huge = 'x'.repeat(50 * 1024 * 1024);
    for (const field of [huge, `"${huge}"`]) {
      await inst.writeCsv('big.csv', `id,note\n1,a\n2,${field}\n3,c\n`);
      const failed = await sync(inst.flags);
      assert.equal(failed.code, 1);
      const error = failed.json.tables[0]!.error!;
      assert.equal(error.code, 'CSV_INVALID', error.message);
      assert.equal(error.file, 'big.csv');
      assert.equal(error.line, 3);
      assert.match(error.message, /line 3/);
      assert.match(error.message, /52,428,80\d bytes/);
      assert.match(error.message, /csv\.max_line_size/);
      assert.doesNotMatch(error.message, /\n/);
    }
    const description = (value: string) => `\`\`\`yaml\nfolder_mapping:\n  csv.shop: shop\ntables:\n${table(`    csv:\n      max_line_size: ${value}\n`)}\`\`\`\n`;
    await writeFile(path.join(inst.configDir, 'data_description.md'), description('0'));
    const check = await runCli(['config', 'check', '--config', inst.configDir]);
    assert.notEqual(check.code, 0);
    assert.match(check.stdout + check.stderr, /csv\.max_line_size/);
    await writeFile(path.join(inst.configDir, 'data_description.md'), description('60000000'));
    const ok = await sync(inst.flags);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const rows = await query(`SELECT CAST(id AS INTEGER) AS id, length(note) AS n FROM read_parquet('${path.join(inst.dataDir, 'parquet', 'shop', 'big.parquet')}') ORDER BY id`);
    assert.deepEqual(rows, [{ id: 1, n: 1 }, { id: 2, n: huge.length }, { id: 3, n: 1 }]);
  });
});
