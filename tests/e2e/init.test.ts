import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseDotenv } from '../../config/index.ts';
import { loadConfig } from '../../connectors/index.ts';
import type { AdaConfig, TableConfig } from '../../config/index.ts';
import { FakeKeboola } from '../fixtures/keboola/fake-keboola.ts';
import type { FakeTable } from '../fixtures/keboola/fake-keboola.ts';
import { TOKEN } from '../fixtures/keboola/keboola-fixtures.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

/** A wrong token that must not be printed either. */
const BAD_TOKEN = '9999-111111-WrongTokenNeverPrintedQx7';

const type = (value: string) => [{ key: 'KBC.datatype.basetype', value, provider: 'storage' }];

const TABLES: FakeTable[] = [
  {
    id: 'in.c-shop.orders', columns: ['order_id', 'total', 'created_at'], primaryKey: ['order_id'], rowsCount: 5_000_000, dataSizeBytes: 2 * 1024 ** 3,
    metadata: [{ key: 'KBC.description', value: 'One row per order: placed in the web shop.', provider: 'user' }],
    columnMetadata: { order_id: type('INTEGER'), total: [...type('NUMERIC'), { key: 'KBC.description', value: 'Order total in EUR', provider: 'user' }], created_at: type('TIMESTAMP') },
  },
  { id: 'in.c-shop.customers', columns: ['customer_id', 'name'], primaryKey: ['customer_id'], rowsCount: 1_200, dataSizeBytes: 80_000, metadata: [{ key: 'KBC.description', value: 'Shop customers', provider: 'user' }] },
  { id: 'in.c-crm.customers', columns: ['id', 'email'], rowsCount: 300, dataSizeBytes: 20_000 },
  { id: 'in.c-crm.events', columns: ['id', 'kind'], rowsCount: 3_000_000, dataSizeBytes: 50 * 1024 ** 2 },
  { id: 'out.c-reports.daily', columns: ['day', 'region', 'revenue'], primaryKey: ['day', 'region'], rowsCount: 9_000, dataSizeBytes: 150 * 1024 ** 2, columnMetadata: { day: type('DATE') } },
  { id: 'out.c-web.orders_alias', aliasOf: 'in.c-shop.orders' },
];

interface Setup {
  fake: FakeKeboola;
  root: string;
  configDir: string;
}

/** A fake Keboola project and an empty "repository" (with .git, so .gitignore goes to its root). */
async function setup(t: TestContext, tables: FakeTable[] = TABLES): Promise<Setup> {
  const fake = await FakeKeboola.start({ token: TOKEN, tables: tables.map((x) => ({ ...x })) });
  t.after(() => fake.close());
  const root = await tempDir(t, 'ada-init-');
  await mkdir(path.join(root, '.git'));
  return { fake, root, configDir: path.join(root, 'config') };
}

/** `ada init --non-interactive` in-process, the token from $KBC_TOKEN. */
function initFlags(s: Setup, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(['init', '--non-interactive', '--config', s.configDir, '--domain', 'acme.com', '--source', 'keboola', '--name', 'Acme Data',
    '--stack-url', s.fake.url, '--token-env', 'KBC_TOKEN', ...extra], { KBC_TOKEN: TOKEN, ...env });
}

function assertNoSecret(result: CliResult, ...secrets: string[]): void {
  for (const secret of [TOKEN, BAD_TOKEN, ...secrets]) {
    for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) assert.ok(!line.includes(secret), `a secret was printed: ${line.replace(secret, '<secret>')}`);
  }
}

/** Loads the written configuration with only the written .env (nothing from this process's environment). */
function load(configDir: string): Promise<AdaConfig> {
  return loadConfig({ configDir, env: {} });
}

function byId(config: AdaConfig, id: string): TableConfig {
  const table = config.tables.find((x) => x.id === id);
  assert.ok(table, `table ${id} is described`);
  return table;
}

describe('ada init: first-time setup wizard', () => {
  it('interactive (answers piped): asks again after a refused token, writes loadable files, never prints the token', async (t) => {
    const s = await setup(t);
    const input = [
      'acme.com', // domain
      '', // source [keboola]
      '', // name [Acme Data]
      s.fake.url, // stack: a URL instead of a number
      BAD_TOKEN, // refused (401) …
      TOKEN, // … asked again
      '', // project id [4242] from the token
      '', // buckets [all]
    ].join('\n');
    const result = await spawnCli(['init', '--config', s.configDir], { cwd: s.root, input: `${input}\n` });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stderr, /refused the Storage API token \(HTTP 401\)/);
    assert.match(result.stdout, /Storage API token \(again\)/);
    assert.match(result.stdout, /Keboola project id \[4242\]/);
    assert.match(result.stdout, /ada config check/);
    assert.match(result.stdout, /ada sync/);
    assert.match(result.stdout, /ada serve/);
    const dotenv = parseDotenv(await readFile(path.join(s.configDir, '.env'), 'utf8')).values;
    assertNoSecret(result, dotenv.WEBAPP_SECRET_KEY!);
    assert.equal(s.fake.apiRequests().filter((r) => r.path === '/v2/storage/tokens/verify').length, 2);

    const instance = parseYaml(await readFile(path.join(s.configDir, 'instance.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    assert.equal(instance.instance!.name, 'Acme Data');
    assert.equal(instance.auth!.allowed_domain, 'acme.com');
    assert.equal(instance.auth!.webapp_secret_key, '${WEBAPP_SECRET_KEY}');
    assert.deepEqual(instance.data_source, { type: 'keboola', keboola: { storage_token: '${KEBOOLA_STORAGE_TOKEN}', stack_url: s.fake.url, project_id: '4242' } });
    assert.equal(dotenv.KEBOOLA_STORAGE_TOKEN, TOKEN);
    assert.match(dotenv.WEBAPP_SECRET_KEY!, /^[A-Za-z0-9_-]{64}$/, '48 random bytes, base64url');
    assert.equal((await stat(path.join(s.configDir, '.env'))).mode & 0o777, 0o600);
    assert.match(await readFile(path.join(s.root, '.gitignore'), 'utf8'), /^\.env$/m);
    for (const file of ['instance.yaml', 'data_description.md']) assert.ok(!(await readFile(path.join(s.configDir, file), 'utf8')).includes(TOKEN), `${file} holds no token`);

    const config = await load(s.configDir);
    assert.equal(config.instance.dataSource.keboola?.storageToken, TOKEN);
    assert.deepEqual(config.tables.map((x) => x.id).sort(), TABLES.map((x) => x.id).sort());
    // An alias takes its source table's column types.
    assert.deepEqual(byId(config, 'out.c-web.orders_alias').columns.map((c) => c.type), ['INTEGER', 'NUMERIC', 'TIMESTAMP']);
  });

  it('with flags: folders, unique names, descriptions, column types and suggested strategies from the project metadata', async (t) => {
    const s = await setup(t);
    const result = await initFlags(s, ['--buckets', 'in.c-shop,in.c-crm,out.c-reports']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assertNoSecret(result);
    const config = await load(s.configDir);
    assert.deepEqual(config.folderMapping, { 'in.c-shop': 'shop', 'in.c-crm': 'crm', 'out.c-reports': 'reports' });
    assert.deepEqual(config.tables.map((x) => x.id).sort(), ['in.c-crm.customers', 'in.c-crm.events', 'in.c-shop.customers', 'in.c-shop.orders', 'out.c-reports.daily']);

    const orders = byId(config, 'in.c-shop.orders');
    assert.equal(orders.name, 'orders');
    assert.equal(orders.folder, 'shop');
    assert.equal(orders.description, 'One row per order: placed in the web shop.');
    assert.deepEqual(orders.primaryKey, ['order_id']);
    assert.equal(orders.syncStrategy, 'incremental', 'a primary key and ≥ 1,000,000 rows');
    assert.equal(orders.incrementalWindowDays, 7);
    assert.deepEqual(orders.columns, [
      { name: 'order_id', type: 'INTEGER' },
      { name: 'total', type: 'NUMERIC', description: 'Order total in EUR' },
      { name: 'created_at', type: 'TIMESTAMP' },
    ]);
    // Two buckets have a `customers` table: both names carry their folder.
    assert.equal(byId(config, 'in.c-shop.customers').name, 'shop_customers');
    assert.equal(byId(config, 'in.c-crm.customers').name, 'crm_customers');
    assert.equal(byId(config, 'in.c-shop.customers').syncStrategy, 'full_refresh', 'small');
    assert.equal(byId(config, 'in.c-crm.customers').description, 'TODO: describe');
    assert.equal(byId(config, 'in.c-crm.events').syncStrategy, 'full_refresh', 'large, but no primary key to merge by');
    const daily = byId(config, 'out.c-reports.daily');
    assert.equal(daily.syncStrategy, 'incremental', 'a composite key and ≥ 100 MB');
    assert.deepEqual(daily.primaryKey, ['day', 'region']);

    const text = await readFile(path.join(s.configDir, 'data_description.md'), 'utf8');
    assert.match(text, /^# Data description — Acme Data$/m);
    assert.match(text, /^```yaml\nfolder_mapping:\n {2}in\.c-crm: crm\n/m);
    assert.match(text, /# 5,000,000 rows, 2\.0 GB; large, with a primary key/);
    assert.match(result.stdout, /5 tables from 3 buckets; 2 incremental, 3 full_refresh; 3 to describe/);
  });

  it('with flags, a refused token exits 2 and writes nothing; --token works but warns, and is never printed', async (t) => {
    const s = await setup(t);
    const refused = await initFlags(s, [], { KBC_TOKEN: BAD_TOKEN });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /refused the Storage API token \(HTTP 401\)/);
    assert.match(refused.stderr, /Nothing was written/);
    assertNoSecret(refused);
    await assert.rejects(stat(s.configDir), { code: 'ENOENT' });

    const direct = await runCli(['init', '--non-interactive', '--config', s.configDir, '--domain', 'acme.com', '--source', 'keboola', '--stack-url', s.fake.url, '--token', TOKEN]);
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stderr, /--token puts the token in your shell history/);
    assertNoSecret(direct);
    assert.equal((await load(s.configDir)).instance.instance.name, 'Acme Data', 'the name defaults from the domain');
  });

  it('a stack that cannot be reached is a clear error (exit 1), and a missing flag a usage error (exit 2)', async (t) => {
    const s = await setup(t);
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const down = await runCli(['init', '--non-interactive', '--config', s.configDir, '--domain', 'acme.com', '--source', 'keboola', '--stack-url', `http://127.0.0.1:${port}`, '--token-env', 'KBC_TOKEN'], { KBC_TOKEN: TOKEN });
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`Could not reach the Keboola stack at http://127\\.0\\.0\\.1:${port}.*Check the stack URL`));
    assertNoSecret(down);
    await assert.rejects(stat(s.configDir), { code: 'ENOENT' });

    const missing = await runCli(['init', '--non-interactive', '--config', s.configDir, '--source', 'keboola']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--domain is required with --non-interactive/);
    const plainHttp = await runCli(['init', '--non-interactive', '--config', s.configDir, '--domain', 'acme.com', '--source', 'keboola', '--stack-url', 'http://connection.keboola.com', '--token-env', 'KBC_TOKEN'], { KBC_TOKEN: TOKEN });
    assert.equal(plainHttp.code, 2);
    assert.match(plainHttp.stderr, /--stack-url: plain http would send the token unencrypted/);
  });

  it('piped answers that end early exit 2 and write nothing', async (t) => {
    const s = await setup(t);
    const result = await spawnCli(['init', '--config', s.configDir], { cwd: s.root, input: 'acme.com\nkeboola\n' });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /the input ended before the answer to "Instance name/);
    await assert.rejects(stat(s.configDir), { code: 'ENOENT' });
  });

  it('re-running adds only the tables new in the project, in a new block, keeping the edited file byte for byte', async (t) => {
    const s = await setup(t);
    assert.equal((await initFlags(s, ['--buckets', 'in.c-shop,in.c-crm,out.c-reports'])).code, 0);
    const descriptionFile = path.join(s.configDir, 'data_description.md');
    const instanceBefore = await readFile(path.join(s.configDir, 'instance.yaml'), 'utf8');
    const dotenvBefore = await readFile(path.join(s.configDir, '.env'), 'utf8');
    // The user edits: a description, a prose paragraph, a table's strategy; the file no longer ends with a newline.
    const edited = `${(await readFile(descriptionFile, 'utf8'))
      .replace(/(id: in\.c-crm\.customers\n\s+name: crm_customers\n\s+description: )"TODO: describe"/, '$1CRM contacts, one row per person')
      .replace('## Folders', 'Ask #data for help.\n\n## Folders')
      .trimEnd()}`;
    await writeFile(descriptionFile, edited);

    s.fake.setTable({ id: 'in.c-shop.returns', columns: ['return_id', 'order_id'], primaryKey: ['return_id'], rowsCount: 10 });
    s.fake.setTable({ id: 'in.c-marketing.campaigns', columns: ['id'], rowsCount: 5 });

    const offered = await initFlags(s);
    assert.equal(offered.code, 0, offered.stderr);
    assert.match(offered.stdout, /1 new table since the last run \(2 more tables in buckets it does not include; add them with --buckets\):\n {2}in\.c-shop\.returns/);
    assert.match(offered.stdout, /run `ada init --non-interactive --add-new-tables`/);
    assert.equal(await readFile(descriptionFile, 'utf8'), edited, 'nothing is appended without --add-new-tables');

    const added = await initFlags(s, ['--add-new-tables']);
    assert.equal(added.code, 0, added.stderr);
    assertNoSecret(added);
    const after = await readFile(descriptionFile, 'utf8');
    assert.ok(after.startsWith(edited), 'the edited text is kept byte for byte');
    const appendix = after.slice(edited.length);
    assert.match(appendix, /^\n\n## Tables added by ada init on \d{4}-\d{2}-\d{2}\n/);
    assert.match(appendix, /```yaml\ntables:\n[^`]*- id: in\.c-shop\.returns\n\s+name: returns\n/);
    assert.ok(!appendix.includes('in.c-marketing'), 'a bucket the description does not include is not added by default');
    assert.equal(await readFile(path.join(s.configDir, 'instance.yaml'), 'utf8'), instanceBefore);
    assert.equal(await readFile(path.join(s.configDir, '.env'), 'utf8'), dotenvBefore);

    const withBucket = await initFlags(s, ['--add-new-tables', '--buckets', 'in.c-marketing']);
    assert.equal(withBucket.code, 0, withBucket.stderr);
    const config = await load(s.configDir);
    assert.equal(byId(config, 'in.c-crm.customers').description, 'CRM contacts, one row per person');
    assert.equal(byId(config, 'in.c-marketing.campaigns').folder, 'marketing');
    assert.equal(config.tables.length, 7);
    assert.equal(config.tables.filter((x) => x.id === 'in.c-shop.returns').length, 1);

    const again = await initFlags(s, ['--add-new-tables']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /No new tables/);
    assert.equal((await readFile(descriptionFile, 'utf8')).split('## Tables added by ada init').length, 3, 'two appended blocks, no third');
  });

  it('re-running interactively lists the new tables and asks before appending (Enter = yes)', async (t) => {
    const s = await setup(t);
    assert.equal((await initFlags(s, ['--buckets', 'in.c-shop'])).code, 0);
    const before = await readFile(path.join(s.configDir, 'data_description.md'), 'utf8');
    s.fake.setTable({ id: 'in.c-shop.returns', columns: ['return_id'], primaryKey: ['return_id'] });
    // Other buckets: Enter = none; then Enter = yes, add.
    const result = await spawnCli(['init', '--config', s.configDir], { cwd: s.root, input: '\n\n' });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /Buckets that the data description does not include yet:/);
    assert.match(result.stdout, /in\.c-shop\.returns {2}\(full_refresh\)/);
    assert.match(result.stdout, /Add them to .*data_description\.md\? \(y\/n\) \[y\]/);
    assertNoSecret(result);
    const after = await readFile(path.join(s.configDir, 'data_description.md'), 'utf8');
    assert.ok(after.startsWith(before));
    assert.deepEqual((await load(s.configDir)).tables.map((x) => x.id).sort(), ['in.c-shop.customers', 'in.c-shop.orders', 'in.c-shop.returns']);
  });

  it('--force writes instance.yaml again (keeping a backup and the session key); --docs puts the description elsewhere', async (t) => {
    const s = await setup(t);
    assert.equal((await initFlags(s, ['--buckets', 'in.c-shop'])).code, 0);
    const key = parseDotenv(await readFile(path.join(s.configDir, '.env'), 'utf8')).values.WEBAPP_SECRET_KEY;
    await writeFile(path.join(s.configDir, '.env'), `${await readFile(path.join(s.configDir, '.env'), 'utf8')}JIRA_DOMAIN=acme.atlassian.net\n`);
    const forced = await initFlags(s, ['--force', '--name', 'Acme Analytics', '--buckets', 'in.c-shop,in.c-crm']);
    assert.equal(forced.code, 0, forced.stderr);
    const values = parseDotenv(await readFile(path.join(s.configDir, '.env'), 'utf8')).values;
    assert.equal(values.WEBAPP_SECRET_KEY, key, 'sessions survive');
    assert.equal(values.JIRA_DOMAIN, 'acme.atlassian.net', 'other .env lines are kept');
    assert.equal((await stat(path.join(s.configDir, '.env'))).mode & 0o777, 0o600);
    assert.match(forced.stdout, /instance\.yaml\.[0-9TZ-]+\.bak/);
    const config = await load(s.configDir);
    assert.equal(config.instance.instance.name, 'Acme Analytics');
    assert.ok(config.tables.some((x) => x.id === 'in.c-crm.events'), 'the missing chosen tables are appended');

    const other = await setup(t);
    const docsDir = path.join(other.root, 'docs');
    const result = await initFlags(other, ['--docs', docsDir, '--buckets', 'in.c-crm']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await stat(path.join(docsDir, 'data_description.md'))).isFile());
    assert.deepEqual((await load(other.configDir)).tables.map((x) => x.id).sort(), ['in.c-crm.customers', 'in.c-crm.events'], 'config/../docs/ is where ada reads it');
  });

  it('a CSV source: the directory relative to the config, one table per CSV file; .gitignore without a repository goes to the cwd', async (t) => {
    const root = await tempDir(t, 'ada-init-csv-');
    const csvDir = path.join(root, 'data', 'csv');
    await mkdir(path.join(csvDir, 'finance'), { recursive: true });
    await writeFile(path.join(csvDir, 'orders.csv'), 'order_id,total\n1,10\n2,20\n');
    await writeFile(path.join(csvDir, 'finance', 'budget.2026.csv'), 'month,amount\n2026-01,100\n');
    await writeFile(path.join(root, '.gitignore'), 'node_modules/\n');
    const input = ['acme.com', 'csv', 'Acme CSV', 'data/csv'].join('\n');
    const result = await spawnCli(['init'], { cwd: root, input: `${input}\n` });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /Found 2 CSV files/);
    const instance = parseYaml(await readFile(path.join(root, 'config', 'instance.yaml'), 'utf8')) as { data_source: unknown };
    assert.deepEqual(instance.data_source, { type: 'csv', csv: { dir: '../data/csv' } });
    assert.deepEqual(Object.keys(parseDotenv(await readFile(path.join(root, 'config', '.env'), 'utf8')).values), ['WEBAPP_SECRET_KEY']);
    assert.equal(await readFile(path.join(root, '.gitignore'), 'utf8'), 'node_modules/\n# secrets of ada (written by ada init)\n.env\n');
    const config = await load(path.join(root, 'config'));
    assert.equal(config.instance.dataSource.csv?.dir, csvDir);
    assert.deepEqual(config.tables.map((x) => [x.id, x.name, x.file, x.source, x.folder]).sort(), [
      ['finance.budget_2026', 'budget_2026', 'finance/budget.2026.csv', 'csv', 'finance'],
      ['orders', 'orders', 'orders.csv', 'csv', 'csv'],
    ]);

    // The written configuration syncs as it is.
    const synced = await runCli(['sync', '--config', path.join(root, 'config'), '--data', path.join(root, 'store'), '--json']);
    assert.equal(synced.code, 0, synced.stderr + synced.stdout);

    await writeFile(path.join(csvDir, 'refunds.csv'), 'id\n1\n');
    const rerun = await runCli(['init', '--non-interactive', '--config', path.join(root, 'config'), '--add-new-tables']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual((await load(path.join(root, 'config'))).tables.map((x) => x.file).sort(), ['finance/budget.2026.csv', 'orders.csv', 'refunds.csv']);
  });
});
