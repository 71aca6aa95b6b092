import assert from 'node:assert/strict';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { loadConfig } from '../../../connectors/index.ts';
import type { AdaConfig, ConfigProblem } from '../../../config/index.ts';
import { AdaError } from '../../../events/index.ts';
import { MINIMAL_INSTANCE, lineOf, markdownWith, problemsOf, tempConfig } from './temp-config.ts';
import type { TempConfig } from './temp-config.ts';

let temp: TempConfig | undefined;
afterEach(async () => {
  await temp?.remove();
  temp = undefined;
});

async function setup(files: Record<string, string>): Promise<TempConfig> {
  temp = await tempConfig(files);
  return temp;
}

function find(problems: readonly ConfigProblem[], pattern: RegExp): ConfigProblem {
  const found = problems.find((p) => pattern.test(`${p.path ?? ''}: ${p.message}`));
  assert.ok(found, `no problem matching ${pattern} in:\n${problems.map((p) => `${p.file}:${p.line}: ${p.path}: ${p.message}`).join('\n')}`);
  return found;
}

const KEBOOLA_INSTANCE = [
  'instance:',
  '  name: ${INSTANCE_NAME:-Fallback name}',
  'auth:',
  '  allowed_domain: example.com',
  '  webapp_secret_key: ${WEBAPP_SECRET_KEY}',
  'data_source:',
  '  type: keboola',
  '  keboola:',
  '    storage_token: ${KBC_TOKEN}',
  '    stack_url: ${KBC_URL}',
  '    project_id: 1234',
  '',
].join('\n');

describe('loadConfig: locating files', () => {
  it('loads a minimal configuration with absolute paths and defaults', async () => {
    const t = await setup({ 'config/instance.yaml': MINIMAL_INSTANCE });
    const config = await loadConfig({ configDir: t.configDir, env: {} });
    assert.equal(config.configDir, t.configDir);
    assert.equal(config.instanceFile, path.join(t.configDir, 'instance.yaml'));
    assert.equal(config.instance.instance.name, 'Test');
    assert.equal(config.instance.dataSource.type, 'csv');
    assert.equal(config.instance.dataSource.csv?.dir, path.join(t.root, 'data', 'csv'), 'csv.dir is relative to the config dir');
    assert.deepEqual(config.tables, []);
    assert.deepEqual(config.descriptionFiles, []);
    assert.ok(config.warnings?.some((w) => /no data description/.test(w.message)));
  });

  it('takes the config dir from env.CONFIG_DIR, and the configDir argument over it', async () => {
    const t = await setup({
      'config/instance.yaml': MINIMAL_INSTANCE,
      'other/instance.yaml': MINIMAL_INSTANCE.replace('name: Test', 'name: Other'),
    });
    const fromEnv = await loadConfig({ env: { CONFIG_DIR: t.file('other') } });
    assert.equal(fromEnv.instance.instance.name, 'Other');
    const fromArg = await loadConfig({ configDir: t.configDir, env: { CONFIG_DIR: t.file('other') } });
    assert.equal(fromArg.instance.instance.name, 'Test');
  });

  it('defaults to ./config resolved against the working directory', async () => {
    const t = await setup({ 'config/instance.yaml': MINIMAL_INSTANCE });
    const cwd = process.cwd();
    process.chdir(t.root);
    try {
      const config = await loadConfig({ env: {} });
      assert.equal(config.configDir, path.join(await realpath(t.root), 'config'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('throws CONFIG_MISSING naming the instance.yaml path it looked for', async () => {
    const t = await setup({});
    await assert.rejects(loadConfig({ configDir: t.file('nowhere'), env: {} }), (err: unknown) => {
      assert.ok(err instanceof AdaError);
      assert.equal(err.code, 'CONFIG_MISSING');
      assert.ok(err.message.includes(path.join(t.root, 'nowhere', 'instance.yaml')), err.message);
      return true;
    });
  });
});

describe('loadConfig: placeholders and .env', () => {
  it('fills placeholders from .env and the environment, the environment winning', async () => {
    const t = await setup({
      'config/instance.yaml': KEBOOLA_INSTANCE,
      'config/.env': [
        '# secrets',
        'export KBC_TOKEN="token-from-dotenv"',
        "KBC_URL='https://connection.eu-central-1.keboola.com/'",
        'WEBAPP_SECRET_KEY=dotenv-secret-key-0123456789',
      ].join('\n'),
    });
    const config = await loadConfig({ configDir: t.configDir, env: { WEBAPP_SECRET_KEY: 'env-secret-key-0123456789' } });
    assert.equal(config.instance.dataSource.keboola?.storageToken, 'token-from-dotenv');
    assert.equal(config.instance.dataSource.keboola?.stackUrl, 'https://connection.eu-central-1.keboola.com');
    assert.equal(config.instance.dataSource.keboola?.projectId, '1234');
    assert.equal(config.instance.auth.webappSecretKey, 'env-secret-key-0123456789');
    assert.equal(config.instance.instance.name, 'Fallback name');
    assert.ok(config.secrets.includes('token-from-dotenv'));
    assert.ok(config.secrets.includes('env-secret-key-0123456789'));
    assert.ok(!config.secrets.includes('dotenv-secret-key-0123456789'), 'a value that was overridden is not in use');
  });

  it('reports an unset variable with the file, the key path, its line and the variable name', async () => {
    const t = await setup({ 'config/instance.yaml': KEBOOLA_INSTANCE });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: { WEBAPP_SECRET_KEY: 'x'.repeat(20), KBC_URL: 'https://k' } }));
    assert.equal(problems.length, 1);
    const [p] = problems;
    assert.equal(p!.file, path.join(t.configDir, 'instance.yaml'));
    assert.equal(p!.path, 'data_source.keboola.storage_token');
    assert.equal(p!.line, lineOf(KEBOOLA_INSTANCE, 'storage_token'));
    assert.match(p!.message, /KBC_TOKEN/);
  });

  it('reports a malformed .env line in .env and a malformed placeholder in instance.yaml', async () => {
    const instance = MINIMAL_INSTANCE.replace('name: Test', 'name: "${not valid}"');
    const t = await setup({ 'config/instance.yaml': instance, 'config/.env': 'A=1\nthis is not an assignment\n' });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    const dotenv = find(problems, /KEY=VALUE/);
    assert.deepEqual([dotenv.file, dotenv.line], [path.join(t.configDir, '.env'), 2]);
    const bad = find(problems, /malformed placeholder/);
    assert.deepEqual([bad.path, bad.line], ['instance.name', 2]);
  });

  it('ignores the keboola section and its unset placeholders when the source is not keboola', async () => {
    const instance = `${MINIMAL_INSTANCE}  keboola:\n    storage_token: \${KBC_TOKEN}\n`;
    const t = await setup({ 'config/instance.yaml': instance });
    const config = await loadConfig({ configDir: t.configDir, env: {} });
    assert.equal(config.instance.dataSource.keboola, undefined);
  });

  it('collects literal values of secret keys and values of secret-named variables for masking', async () => {
    const instance = `${MINIMAL_INSTANCE}instance_note: ignored\n`;
    const t = await setup({
      'config/instance.yaml': instance.replace('name: Test', 'name: Test\n  subtitle: "uses ${SHOP_DB_PASSWORD}"'),
    });
    const config = await loadConfig({ configDir: t.configDir, env: { SHOP_DB_PASSWORD: 'hunter2hunter2' } });
    assert.ok(config.secrets.includes('a-long-enough-secret-key'), 'literal webapp_secret_key');
    assert.ok(config.secrets.includes('hunter2hunter2'), 'value of a *_PASSWORD variable');
    assert.ok(config.warnings?.some((w) => w.path === 'instance_note' && /unknown key/.test(w.message)));
  });
});

describe('loadConfig: Jira', () => {
  const jiraInstance = [
    MINIMAL_INSTANCE.trimEnd(),
    'jira:',
    '  domain: ${JIRA_DOMAIN}',
    '  email: bot@example.com',
    '  api_token: ${JIRA_API_TOKEN}',
    '  webhook_secret: ${JIRA_WEBHOOK_SECRET}',
    '',
  ].join('\n');

  it('is enabled when jira.domain has a value, and then its placeholders are required', async () => {
    const t = await setup({ 'config/instance.yaml': jiraInstance });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: { JIRA_DOMAIN: 'acme.atlassian.net' } }));
    assert.deepEqual(problems.map((p) => p.path), ['jira.api_token', 'jira.webhook_secret']);

    const config = await loadConfig({
      configDir: t.configDir,
      env: { JIRA_DOMAIN: 'https://acme.atlassian.net/', JIRA_API_TOKEN: 'jira-token-value', JIRA_WEBHOOK_SECRET: 'hook-secret-value' },
    });
    assert.equal(config.instance.jira?.domain, 'acme.atlassian.net');
    assert.ok(config.secrets.includes('jira-token-value') && config.secrets.includes('hook-secret-value'));
  });

  it('is disabled, with a warning and no errors, when JIRA_DOMAIN is unset', async () => {
    const t = await setup({ 'config/instance.yaml': jiraInstance });
    const config = await loadConfig({ configDir: t.configDir, env: {} });
    assert.equal(config.instance.jira, undefined);
    const w = config.warnings?.find((x) => /Jira is disabled/.test(x.message));
    assert.ok(w);
    assert.match(w.message, /JIRA_DOMAIN/);
  });

  it('makes `jira` a source tables may name only when enabled', async () => {
    const md = markdownWith('tables:\n  - id: issues\n    name: issues\n    description: Jira issues\n    source: jira\n');
    const t = await setup({ 'config/instance.yaml': jiraInstance, 'config/data_description.md': md });
    const env = { JIRA_DOMAIN: 'acme.atlassian.net', JIRA_API_TOKEN: 't', JIRA_WEBHOOK_SECRET: 's' };
    const config = await loadConfig({ configDir: t.configDir, env });
    assert.equal(config.tables[0]!.source, 'jira');
    assert.equal(config.tables[0]!.bucket, 'jira', 'an id without a dot belongs to its source');

    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    const p = find(problems, /source "jira" is not configured/);
    assert.equal(p.line, lineOf(md, 'source: jira'));
  });
});

describe('loadConfig: instance.yaml validation', () => {
  it('reports every missing required key at once', async () => {
    const text = 'instance:\n  subtitle: s\nauth:\n  google_client_id: x\ndata_source:\n  schedule: "0 5 * *"\n';
    const t = await setup({ 'config/instance.yaml': text });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    const file = path.join(t.configDir, 'instance.yaml');
    assert.ok(problems.every((p) => p.file === file));
    assert.equal(find(problems, /instance: missing required key "name"/).line, 1);
    assert.equal(find(problems, /auth: missing required key "allowed_domain"/).line, 3);
    assert.equal(find(problems, /auth: missing required key "webapp_secret_key"/).line, 3);
    assert.equal(find(problems, /data_source: missing required key "type"/).line, 5);
    assert.equal(find(problems, /data_source.schedule: cron expression/).line, 6);
  });

  it('rejects an unknown data source type and requires csv.dir for csv', async () => {
    const t = await setup({ 'config/instance.yaml': MINIMAL_INSTANCE.replace('type: csv', 'type: ftp').replace('    dir: ../data/csv\n', '    delimiter: ","\n') });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    assert.equal(find(problems, /data_source.type: unknown value "ftp"/).line, 7);
    assert.equal(find(problems, /data_source.csv: missing required key "dir"/).line, 8);
  });

  it('reports unknown datasets in requires and requires cycles with their lines', async () => {
    const datasets = [
      'datasets:',
      '  sales:',
      '    label: Sales',
      '  support:',
      '    requires: [sales, marketing]',
      '  a:',
      '    requires: [b]',
      '  b:',
      '    requires:',
      '      - c',
      '  c:',
      '    requires: [a]',
      '',
    ].join('\n');
    const text = MINIMAL_INSTANCE + datasets;
    const t = await setup({ 'config/instance.yaml': text });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    assert.equal(problems.length, 2, JSON.stringify(problems, null, 1));
    const unknown = find(problems, /unknown dataset "marketing"/);
    assert.deepEqual([unknown.path, unknown.line], ['datasets.support.requires[1]', lineOf(text, 'requires: [sales, marketing]')]);
    const cycle = find(problems, /cycle/);
    assert.match(cycle.message, /a → b → c → a/);
    assert.equal(cycle.line, lineOf(text, 'requires: [b]'));
  });

  it('reports malformed YAML in instance.yaml with its line and still checks the data description', async () => {
    const text = 'instance:\n  name: Test\nauth: [unclosed\n  allowed_domain: x\n';
    const md = markdownWith('tables:\n  - id: in.c-a.t\n    name: t\n');
    const t = await setup({ 'config/instance.yaml': text, 'config/data_description.md': md });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    const yamlProblem = find(problems, /invalid YAML/);
    assert.equal(yamlProblem.file, path.join(t.configDir, 'instance.yaml'));
    assert.ok(yamlProblem.line !== undefined && yamlProblem.line >= 3 && yamlProblem.line <= 5, `line ${yamlProblem.line}`);
    const missing = find(problems, /missing required key "description"/);
    assert.equal(missing.file, path.join(t.configDir, 'data_description.md'));
  });

  it('reports an empty instance.yaml', async () => {
    const t = await setup({ 'config/instance.yaml': '# nothing yet\n' });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    find(problems, /the file is empty/);
  });
});

describe('loadConfig: tables', () => {
  const FULL_TABLE = [
    'folder_mapping:',
    '  in.c-shop: sales',
    'tables:',
    '  - id: in.c-shop.orders',
    '    name: orders',
    '    description: Orders',
    '    primary_key: "order_id, line"',
    '    sync_strategy: incremental',
    '    incremental_window_days: 3',
    '    partition_by: created_at',
    '    partition_granularity: day',
    '    max_history_days: 365',
    '    initial_load_chunk_days: 10',
    '    where_filters:',
    '      - {column: status, operator: ne, values: [test, 0]}',
    '      - {column: created_at, operator: ge, values: "{{last_year}}"}',
    '    foreign_keys:',
    '      - {column: customer_id, references: customers.id, description: Buyer}',
    '    dataset: sales',
    '    columns:',
    '      - {name: order_id, type: varchar, description: Number}',
    '      - total',
    '    schedule: "0 */4 * * *"',
    '    schema_policy: evolve',
    '  - id: in.c-crm.customers',
    '    name: customers',
    '    description: Customers',
    '    primary_key: [id]',
    '  - id: budget',
    '    name: budget',
    '    description: Budget',
    '    file: finance/*.csv',
    '    folder: private',
    '    csv: {delimiter: ";", header: false, quote: "\'", escape: "\\\\", encoding: latin-1, null: NA}',
    '',
  ].join('\n');

  it('maps every key to the typed table, with defaults and derived bucket and folder', async () => {
    const md = markdownWith(FULL_TABLE);
    const t = await setup({ 'config/instance.yaml': `${MINIMAL_INSTANCE}datasets:\n  sales: {}\n`, 'config/data_description.md': md });
    const config = await loadConfig({ configDir: t.configDir, env: {} });
    const [orders, customers, budget] = config.tables;
    assert.deepEqual(orders, {
      id: 'in.c-shop.orders',
      name: 'orders',
      description: 'Orders',
      source: 'csv',
      primaryKey: ['order_id', 'line'],
      syncStrategy: 'incremental',
      incrementalWindowDays: 3,
      partitionBy: 'created_at',
      partitionGranularity: 'day',
      maxHistoryDays: 365,
      initialLoadChunkDays: 10,
      whereFilters: [
        { column: 'status', operator: 'ne', values: ['test', '0'] },
        { column: 'created_at', operator: 'ge', values: ['{{last_year}}'] },
      ],
      foreignKeys: [{ column: 'customer_id', references: 'customers.id', description: 'Buyer' }],
      folder: 'sales',
      bucket: 'in.c-shop',
      dataset: 'sales',
      columns: [{ name: 'order_id', type: 'VARCHAR', description: 'Number' }, { name: 'total' }],
      private: false,
      schedule: '0 */4 * * *',
      schemaPolicy: 'evolve',
      location: { file: path.join(t.configDir, 'data_description.md'), line: lineOf(md, '- id: in.c-shop.orders') },
    });
    assert.deepEqual(
      [customers!.primaryKey, customers!.syncStrategy, customers!.incrementalWindowDays, customers!.initialLoadChunkDays, customers!.partitionGranularity, customers!.schemaPolicy],
      [['id'], 'full_refresh', 7, 30, 'month', 'strict'],
    );
    assert.equal(customers!.bucket, 'in.c-crm');
    assert.equal(customers!.folder, 'in.c-crm', 'an unmapped bucket is its own folder');
    assert.equal(budget!.bucket, 'csv', 'an id without a dot belongs to the source type');
    assert.equal(budget!.folder, 'private');
    assert.equal(budget!.private, true, 'the private folder makes a table private');
    assert.equal(budget!.file, 'finance/*.csv');
    assert.equal('maxHistoryDays' in customers!, false, 'unset optional fields are left out, not undefined');
    assert.deepEqual(budget!.csv, { delimiter: ';', header: false, quote: "'", escape: '\\', encoding: 'latin-1', null: 'NA' });
    assert.deepEqual(config.folderMapping, { 'in.c-shop': 'sales' });
  });

  it('returns a deep-frozen configuration', async () => {
    const t = await setup({ 'config/instance.yaml': `${MINIMAL_INSTANCE}datasets:\n  sales: {}\n`, 'config/data_description.md': markdownWith(FULL_TABLE) });
    const config: AdaConfig = await loadConfig({ configDir: t.configDir, env: {} });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.instance.auth));
    assert.ok(Object.isFrozen(config.tables));
    assert.ok(Object.isFrozen(config.tables[0]!.whereFilters[0]!.values));
    assert.ok(Object.isFrozen(config.secrets));
    assert.throws(() => { (config.tables[0] as { name: string }).name = 'changed'; }, TypeError);
    assert.throws(() => { (config.tables as unknown as unknown[]).push({}); }, TypeError);
  });

  it('reads docs/data_description.md beside the config dir, then docs/datasets/*.md and config/datasets/*.md', async () => {
    const table = (name: string): string => markdownWith(`tables:\n  - id: in.c-x.${name}\n    name: ${name}\n    description: ${name}\n`);
    const t = await setup({
      'config/instance.yaml': MINIMAL_INSTANCE,
      'docs/data_description.md': table('main') + markdownWith('folder_mapping:\n  in.c-x: x-folder\n'),
      'docs/datasets/b.md': table('docs_b'),
      'docs/datasets/a.md': table('docs_a'),
      'docs/datasets/notes.txt': 'not markdown',
      'config/datasets/c.md': table('config_c') + markdownWith('tables:\n  - id: in.c-y.more\n    name: more\n    description: more\n'),
    });
    const config = await loadConfig({ configDir: t.configDir, env: {} });
    assert.deepEqual(config.tables.map((x) => x.name), ['main', 'docs_a', 'docs_b', 'config_c', 'more']);
    assert.deepEqual(config.descriptionFiles, [
      t.file('docs/data_description.md'), t.file('docs/datasets/a.md'), t.file('docs/datasets/b.md'), t.file('config/datasets/c.md'),
    ]);
    assert.ok(config.tables.filter((x) => x.bucket === 'in.c-x').every((x) => x.folder === 'x-folder'), 'folder_mapping applies across files');
    assert.equal(config.tables.find((x) => x.name === 'more')!.location.file, t.file('config/datasets/c.md'));
  });

  it('prefers config/data_description.md over docs/data_description.md', async () => {
    const t = await setup({
      'config/instance.yaml': MINIMAL_INSTANCE,
      'config/data_description.md': markdownWith('tables:\n  - {id: a.b.c, name: from_config, description: d}\n'),
      'docs/data_description.md': markdownWith('tables:\n  - {id: a.b.c, name: from_docs, description: d}\n'),
    });
    const config = await loadConfig({ configDir: t.configDir, env: {} });
    assert.deepEqual(config.tables.map((x) => x.name), ['from_config']);
  });

  it('reports a bucket mapped to two folders in different files', async () => {
    const second = markdownWith('folder_mapping:\n  in.c-x: other\n');
    const t = await setup({
      'config/instance.yaml': MINIMAL_INSTANCE,
      'config/data_description.md': markdownWith('folder_mapping:\n  in.c-x: first\n  in.c-y: same\n'),
      'docs/datasets/z.md': second + markdownWith('folder_mapping:\n  in.c-y: same\n'),
    });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.file, t.file('docs/datasets/z.md'));
    assert.equal(problems[0]!.line, 5);
    assert.match(problems[0]!.message, /already mapped to "first" at .*data_description\.md:5/);
  });

  it('reports each table problem at the right line of the markdown file', async () => {
    const block = [
      'tables:',
      '  - id: in.c-a.one',
      '    name: one',
      '    description: ok',
      '    sync_strategy: sometimes',
      '  - id: in.c-a.two',
      '    name: two',
      '    description: partitioned without a column',
      '    sync_strategy: partitioned',
      '  - id: in.c-a.three',
      '    name: three',
      '    description: bad operator',
      '    where_filters:',
      '      - column: x',
      '        operator: like',
      '        values: [1]',
      '  - name: no_id',
      '    description: missing id',
      '  - id: in.c-a.dup',
      '    name: ONE',
      '    description: duplicate of one',
      '  - id: in.c-a.nodesc',
      '    name: nodesc',
      '    schedule: "61 * * * *"',
      '',
    ].join('\n');
    const md = `# Intro\n\nSome text.\n\n\`\`\`yaml\n${block}\`\`\`\n`;
    const t = await setup({ 'config/instance.yaml': MINIMAL_INSTANCE, 'config/data_description.md': md });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    const file = t.file('config/data_description.md');
    const expectations: Array<[RegExp, number]> = [
      [/tables\[0\]\.sync_strategy: unknown value "sometimes"/, lineOf(md, 'sync_strategy: sometimes')],
      [/tables\[1\]\.sync_strategy: a partitioned table needs partition_by/, lineOf(md, 'sync_strategy: partitioned')],
      [/tables\[2\]\.where_filters\[0\]\.operator: unknown value "like"/, lineOf(md, 'operator: like')],
      [/tables\[3\]: missing required key "id"/, lineOf(md, 'name: no_id')],
      [/tables\[4\]\.name: duplicate table name "ONE" \(also defined at .*:7\)/, lineOf(md, 'name: ONE')],
      [/tables\[5\]: missing required key "description"/, lineOf(md, 'id: in.c-a.nodesc')],
      [/tables\[5\]\.schedule: cron minute/, lineOf(md, 'schedule: "61')],
    ];
    for (const [pattern, line] of expectations) {
      const p = find(problems, pattern);
      assert.equal(p.file, file);
      assert.equal(p.line, line, `line of ${pattern}`);
    }
    assert.equal(problems.length, expectations.length);
    assert.equal(lineOf(md, 'id: in.c-a.one'), 7, 'the duplicate message names where the first definition starts');
  });

  it('refuses table names and folders that are not a single safe path segment', async () => {
    const names = ['..', 'a/b', 'a\\\\b', '.hidden', '""', '"a\\0b"'];
    const block = ['tables:', ...names.flatMap((n, i) => [`  - id: in.c-a.t${i}`, `    name: ${n}`, '    description: d']),
      '  - id: in.c-a.f', '    name: f', '    description: d', '    folder: ../up',
      '  - id: .leading', '    name: derived', '    description: d'].join('\n');
    const md = markdownWith(block);
    const t = await setup({ 'config/instance.yaml': MINIMAL_INSTANCE, 'config/data_description.md': md });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    assert.match(find(problems, /tables\[0\]\.name:/).message, /relative directory/);
    assert.match(find(problems, /tables\[1\]\.name:/).message, /separator/);
    assert.match(find(problems, /tables\[2\]\.name:/).message, /separator/);
    assert.match(find(problems, /tables\[3\]\.name:/).message, /starts with a dot/);
    assert.match(find(problems, /tables\[4\]\.name:/).message, /must not be empty/);
    assert.match(find(problems, /tables\[5\]\.name:/).message, /NUL/);
    const folder = find(problems, /tables\[6\]\.folder:/);
    assert.equal(folder.line, lineOf(md, 'folder: ../up'));
    assert.match(find(problems, /tables\[7\]\.id:/).message, /derived from the id's bucket is empty/);
    assert.equal(problems.length, 8);
  });

  it('reports malformed YAML in a fenced block at block start + line inside, and keeps checking other blocks', async () => {
    const md = markdownWith('tables:\n  - id: a.b.c\n    name: [unclosed\n    description: d\n', 'tables:\n  - id: a.b.d\n    name: fine\n');
    const t = await setup({ 'config/instance.yaml': MINIMAL_INSTANCE, 'config/data_description.md': md });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    const yamlProblem = find(problems, /invalid YAML in the block starting at line 3/);
    assert.ok(yamlProblem.line! >= lineOf(md, 'name: [unclosed') && yamlProblem.line! <= lineOf(md, 'description: d'), `line ${yamlProblem.line}`);
    assert.equal(find(problems, /tables\[0\]: missing required key "description"/).line, lineOf(md, 'id: a.b.d'));
  });

  it('reports an unclosed yaml fence, unknown datasets, unconfigured sources and a non-list tables key', async () => {
    const md = [
      '```yaml', 'tables:', '  - {id: a.b.c, name: c, description: d, dataset: nope, source: keboola}', '```',
      '```yaml', 'tables: {id: x}', '```',
      '```yaml', 'tables: []',
    ].join('\n');
    const t = await setup({ 'config/instance.yaml': MINIMAL_INSTANCE, 'config/data_description.md': md });
    const problems = await problemsOf(() => loadConfig({ configDir: t.configDir, env: {} }));
    assert.equal(find(problems, /dataset "nope" \(instance.yaml defines no datasets\)/).line, 3);
    assert.equal(find(problems, /source "keboola" is not configured.*configured: csv/).line, 3);
    assert.equal(find(problems, /tables: expected a list/).line, 6);
    assert.equal(find(problems, /never closed/).line, 8);
    assert.equal(problems.length, 4);
  });

  it('warns about unknown keys without failing, suggesting the likely key', async () => {
    const md = markdownWith('tables:\n  - id: a.b.c\n    name: c\n    description: d\n    sync_stratgy: incremental\n');
    const t = await setup({ 'config/instance.yaml': MINIMAL_INSTANCE, 'config/data_description.md': md });
    const config = await loadConfig({ configDir: t.configDir, env: {} });
    const w = config.warnings?.find((x) => x.path === 'tables[0].sync_stratgy');
    assert.ok(w);
    assert.match(w.message, /did you mean "sync_strategy"/);
    assert.equal(w.line, lineOf(md, 'sync_stratgy'));
  });
});

describe('loadConfig: many problems at once', () => {
  it('throws one CONFIG_INVALID listing every problem across files, ordered by file and line', async () => {
    const instance = 'instance:\n  name: x\nauth:\n  allowed_domain: example.com\n  webapp_secret_key: ${SECRET}\ndata_source:\n  type: csv\n  csv: {dir: .}\n';
    const md = markdownWith('tables:\n  - id: a.b.c\n    name: c\n    description: d\n    sync_strategy: nope\n  - id: a.b.d\n    name: c\n    description: d\n');
    const t = await setup({
      'config/instance.yaml': instance,
      'config/data_description.md': md,
      'docs/datasets/extra.md': markdownWith('tables:\n  - id: a.b.e\n    name: ..\n'),
    });
    await assert.rejects(loadConfig({ configDir: t.configDir, env: {} }), (err: unknown) => {
      assert.ok(err instanceof AdaError);
      assert.equal(err.code, 'CONFIG_INVALID');
      const problems = err.details.problems as ConfigProblem[];
      assert.deepEqual(problems.map((p) => [path.relative(t.root, p.file), p.line]), [
        ['config/instance.yaml', 5],
        ['config/data_description.md', 8],
        ['config/data_description.md', 10],
        ['docs/datasets/extra.md', 5],
        ['docs/datasets/extra.md', 6],
      ]);
      const lines = err.message.split('\n');
      assert.match(lines[0]!, /5 problems/);
      assert.equal(lines.length, 6);
      assert.match(lines[1]!, /instance\.yaml:5: auth\.webapp_secret_key: environment variable SECRET is not set/);
      return true;
    });
  });
});
