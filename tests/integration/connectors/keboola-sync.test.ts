import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { CONNECTOR_FACTORIES } from '../../../connectors/index.ts';
import { EventLogReader } from '../../../events/index.ts';
import type { RecordedEvent } from '../../../events/index.ts';
import { FakeKeboola } from '../../fixtures/keboola/fake-keboola.ts';
import type { FakeKeboolaOptions, FakeTable } from '../../fixtures/keboola/fake-keboola.ts';
import { TOKEN } from '../../fixtures/keboola/keboola-fixtures.ts';
import { runCli } from '../../helpers/cli.ts';
import { query } from '../../helpers/instance.ts';
import { tempDir } from '../../helpers/tmp.ts';

const registered = CONNECTOR_FACTORIES.some((f) => f.type === 'keboola');
const skip = registered ? false : 'the keboola factory is not registered in connectors/index.ts yet (connectors/keboola exports keboolaConnector)';

const ORDERS: FakeTable = {
  id: 'in.c-shop.orders',
  columns: ['id', 'customer', 'amount', 'paid', 'ordered_on'],
  primaryKey: ['id'],
  rowsCount: 3,
  dataSizeBytes: 2048,
  metadata: [{ key: 'KBC.description', value: 'Orders as Keboola describes them', provider: 'user' }],
  columnMetadata: {
    id: [{ key: 'KBC.datatype.basetype', value: 'INTEGER', provider: 'storage' }, { key: 'KBC.description', value: 'Order number', provider: 'user' }],
    amount: [{ key: 'KBC.datatype.basetype', value: 'NUMERIC', provider: 'user' }],
    paid: [{ key: 'KBC.datatype.basetype', value: 'BOOLEAN', provider: 'user' }],
    ordered_on: [{ key: 'KBC.datatype.basetype', value: 'DATE', provider: 'user' }],
  },
  rows: [
    { id: '1', customer: 'Anna', amount: '10.5', paid: 'yes', ordered_on: '2026-01-05', _timestamp: '2026-01-05T10:00:00Z' },
    { id: '2', customer: 'Bob', amount: '', paid: 'no', ordered_on: '0000-00-00', _timestamp: '2026-02-05T10:00:00Z' },
    { id: '3', customer: 'Cecil', amount: '7', paid: '1', ordered_on: '2026-03-01', _timestamp: '2026-03-01T10:00:00Z' },
  ],
};

/** A throw-away instance whose data source is the fake; the token comes from ${KBC_TOKEN}. */
async function keboolaInstance(t: TestContext, fake: FakeKeboola, tablesYaml: string) {
  const root = await tempDir(t, 'ada-kbc-instance-');
  const configDir = path.join(root, 'config');
  const dataDir = path.join(root, 'data');
  await mkdir(configDir, { recursive: true });
  await writeFile(path.join(configDir, 'instance.yaml'), [
    'instance:', '  name: Keboola test shop',
    'auth:', '  allowed_domain: example.com', '  webapp_secret_key: test-secret-key-0123456789',
    'data_source:', '  type: keboola', '  keboola:', `    stack_url: ${fake.url}`, '    storage_token: ${KBC_TOKEN}', '',
  ].join('\n'));
  await writeFile(path.join(configDir, 'data_description.md'), `# Shop\n\n\`\`\`yaml\nfolder_mapping:\n  in.c-shop: shop\ntables:\n${tablesYaml}\n\`\`\`\n`);
  return { root, configDir, dataDir, flags: ['--config', configDir, '--data', dataDir] };
}

async function startFake(t: TestContext, options: Partial<FakeKeboolaOptions> = {}): Promise<FakeKeboola> {
  const fake = await FakeKeboola.start({ token: TOKEN, tables: [structuredClone(ORDERS)], ...options });
  t.after(() => fake.close());
  return fake;
}

type SyncJson = { ok: boolean; tables: Array<{ table: string; status: string; rows: number; error?: { code: string; message: string } }> };

async function sync(flags: string[], env: Record<string, string> = { KBC_TOKEN: TOKEN }) {
  const result = await runCli(['sync', ...flags, '--json'], env);
  return { ...result, json: JSON.parse(result.stdout || '{}') as SyncJson };
}

async function eventsOf(dataDir: string): Promise<RecordedEvent[]> {
  return lastValueFrom(new EventLogReader(path.join(dataDir, 'events')).read$(1).pipe(toArray()));
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await filesUnder(full));
    else out.push(full);
  }
  return out;
}

const TABLE = (extra: string) => `  - id: in.c-shop.orders
    name: orders
    description: Orders of the shop
    primary_key: id
${extra}`;

describe('ada sync from Keboola (fake Storage API) end to end', { skip }, () => {
  it('full_refresh publishes typed Parquet with Keboola\'s descriptions and table metadata', async (t) => {
    const fake = await startFake(t);
    const inst = await keboolaInstance(t, fake, TABLE('    sync_strategy: full_refresh\n'));
    const first = await sync(inst.flags);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(first.json.tables[0]!.rows, 3);
    const file = path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet');
    const rows = await query(`SELECT * FROM read_parquet('${file}') ORDER BY id`);
    assert.deepEqual(rows.map((r) => [r.id, r.customer, r.amount, r.paid]), [[1, 'Anna', 10.5, true], [2, 'Bob', null, false], [3, 'Cecil', 7, true]]);
    assert.equal(rows[1]!.ordered_on, null);
    const types = await query(`SELECT name, type FROM parquet_schema('${file}') WHERE name <> 'duckdb_schema'`);
    assert.deepEqual(types.map((r) => `${r.name}:${r.type}`), ['id:INT64', 'customer:BYTE_ARRAY', 'amount:DOUBLE', 'paid:BOOLEAN', 'ordered_on:INT32']);
    const staged = (await eventsOf(inst.dataDir)).find((e) => e.type === 'TableStagingCompleted')!;
    const md = (staged.data as { metadata: Record<string, unknown> }).metadata;
    assert.equal(md.rowsCount, 3);
    assert.equal(md.dataSizeBytes, 2048);
    assert.equal(md.description, 'Orders as Keboola describes them');
    const schemaYml = await readFile(path.join(inst.dataDir, 'docs', 'schema.yml'), 'utf8');
    assert.match(schemaYml, /Order number/);

    fake.setTable({ ...structuredClone(ORDERS), rows: [{ id: '9', customer: 'Zoe', amount: '1', paid: 'no', ordered_on: '2026-03-02' }] });
    assert.equal((await sync(inst.flags)).code, 0);
    assert.deepEqual((await query(`SELECT id FROM '${file}'`)).map((r) => r.id), [9]);
    for (const r of fake.apiRequests()) assert.equal(r.headers['x-storageapi-token'], TOKEN);
  });

  it('incremental: the first run loads, the second asks changedSince = last export start − window and upserts', async (t) => {
    const fake = await startFake(t);
    const inst = await keboolaInstance(t, fake, TABLE('    sync_strategy: incremental\n    incremental_window_days: 2\n'));
    const first = await sync(inst.flags);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(fake.exports[0]!.params.changedSince, undefined);
    const started = (await eventsOf(inst.dataDir)).find((e) => e.type === 'SyncSucceeded')!;
    const cursor = (started.data as { cursor: { lastExportStart: string } }).cursor;
    assert.ok(cursor.lastExportStart);

    const later = new Date(Date.now() + 1000).toISOString();
    const table = fake.tables.get('in.c-shop.orders')!;
    table.rows = [...table.rows!.filter((r) => r.id !== '2'), { id: '2', customer: 'Bob', amount: '99', paid: 'yes', ordered_on: '2026-03-10', _timestamp: later }, { id: '4', customer: 'Dora', amount: '4', paid: 'no', ordered_on: '', _timestamp: later }];
    const second = await sync(inst.flags);
    assert.equal(second.code, 0, second.stderr + second.stdout);
    const expectedSince = new Date(Date.parse(cursor.lastExportStart) - 2 * 86_400_000).toISOString().slice(0, 19);
    assert.equal(fake.exports[1]!.params.changedSince, `${expectedSince}+00:00`);
    assert.equal(second.json.tables[0]!.rows, 2);
    const file = path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet');
    const rows = await query(`SELECT id, amount FROM '${file}' ORDER BY id`);
    assert.deepEqual(rows.map((r) => [r.id, r.amount]), [[1, 10.5], [2, 99], [3, 7], [4, 4]]);
  });

  it('partition_by month writes one file per month', async (t) => {
    const fake = await startFake(t);
    const inst = await keboolaInstance(t, fake, TABLE('    sync_strategy: partitioned\n    partition_by: ordered_on\n    partition_granularity: month\n'));
    const result = await sync(inst.flags);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const names = (await readdir(path.join(inst.dataDir, 'parquet', 'shop', 'orders'))).filter((n) => n.endsWith('.parquet')).sort();
    assert.ok(names.includes('2026_01.parquet') && names.includes('2026_03.parquet'), names.join(', '));
  });

  it('where_filters reach the export; a failed job fails the table with Keboola\'s message and keeps the published data', async (t) => {
    const fake = await startFake(t);
    const inst = await keboolaInstance(t, fake, TABLE('    sync_strategy: full_refresh\n    where_filters:\n      - {column: paid, operator: ne, values: ["no"]}\n'));
    assert.equal((await sync(inst.flags)).code, 0);
    assert.deepEqual(fake.exports[0]!.params.whereFilters, [{ column: 'paid', operator: 'ne', values: ['no'] }]);
    const file = path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet');
    assert.deepEqual((await query(`SELECT id FROM '${file}' ORDER BY id`)).map((r) => r.id), [1, 3]);

    fake.failNextJob('in.c-shop.orders', 'Snowflake query failed: warehouse suspended');
    const failed = await sync(inst.flags);
    assert.equal(failed.code, 1);
    assert.equal(failed.json.tables[0]!.error?.code, 'KEBOOLA_JOB_FAILED');
    assert.match(failed.json.tables[0]!.error!.message, /warehouse suspended/);
    assert.deepEqual((await query(`SELECT id FROM '${file}' ORDER BY id`)).map((r) => r.id), [1, 3]);
  });

  it('the token appears in no event, file, log line or message — not even when Keboola rejects it', async (t) => {
    const fake = await startFake(t);
    const inst = await keboolaInstance(t, fake, TABLE('    sync_strategy: full_refresh\n'));
    const outputs: string[] = [];
    const ok = await sync(inst.flags);
    outputs.push(ok.stdout, ok.stderr);
    assert.equal(ok.code, 0);
    fake.failNextJob('in.c-shop.orders', `export failed for token ${TOKEN}`);
    const jobFailed = await sync(inst.flags);
    outputs.push(jobFailed.stdout, jobFailed.stderr);
    assert.match(jobFailed.json.tables[0]!.error!.message, /export failed for token \*\*\*/);
    const wrong = await sync(inst.flags, { KBC_TOKEN: `${TOKEN}-revoked` });
    outputs.push(wrong.stdout, wrong.stderr);
    assert.equal(wrong.json.tables[0]!.error?.code, 'KEBOOLA_UNAUTHORIZED');
    const human = await runCli(['sync', ...inst.flags], { KBC_TOKEN: TOKEN });
    outputs.push(human.stdout, human.stderr);
    const events = await runCli(['events', 'tail', '-n', '1000', '--json', '--data', inst.dataDir], { KBC_TOKEN: TOKEN });
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, /KEBOOLA_UNAUTHORIZED/);
    outputs.push(events.stdout, events.stderr);

    for (const text of outputs) assert.ok(!text.includes(TOKEN), `the token leaked into CLI output: ${text.slice(0, 200)}`);
    for (const file of await filesUnder(inst.dataDir)) {
      const content = await readFile(file);
      assert.ok(!content.includes(TOKEN), `the token leaked into ${path.relative(inst.dataDir, file)}`);
    }
    assert.deepEqual(fake.tokenLeaks(), []);
  });
});
