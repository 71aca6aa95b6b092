import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { parse } from 'yaml';
import { configCheck } from '../../../ops/commands/config-check.ts';
import { lineOf, tempConfig } from './temp-config.ts';
import type { TempConfig } from './temp-config.ts';

let temp: TempConfig | undefined;
afterEach(async () => {
  await temp?.remove();
  temp = undefined;
});

const STORAGE_TOKEN = '1234-abcdefABCDEFstoragetoken';
const WEBAPP_KEY = 'webapp-session-signing-key-xyz';
const JIRA_TOKEN = 'jira-api-token-987654321';
const HOOK_SECRET = 'jira-hook-secret-5555';
const LITERAL_CLIENT_SECRET = 'literal-google-client-secret';

const INSTANCE = [
  'instance:',
  '  name: Masking test',
  'auth:',
  '  allowed_domain: example.com',
  '  webapp_secret_key: ${WEBAPP_SECRET_KEY}',
  `  google_client_secret: ${LITERAL_CLIENT_SECRET}`,
  'data_source:',
  '  type: keboola',
  '  keboola:',
  '    storage_token: ${KBC_TOKEN}',
  '    stack_url: https://connection.keboola.com',
  'jira:',
  '  domain: acme.atlassian.net',
  '  api_token: ${JIRA_API_TOKEN}',
  '  webhook_secret: ${HOOK}',
  '  email: bot@example.com',
  'server:',
  '  # a secret leaking into a non-secret key must be masked too',
  '  hostname: host-${KBC_TOKEN}',
  '',
].join('\n');

const ENV = { WEBAPP_SECRET_KEY: WEBAPP_KEY, KBC_TOKEN: STORAGE_TOKEN, JIRA_API_TOKEN: JIRA_TOKEN };
const SECRETS = [STORAGE_TOKEN, WEBAPP_KEY, JIRA_TOKEN, HOOK_SECRET, LITERAL_CLIENT_SECRET];

async function run(configDir: string, env: NodeJS.ProcessEnv, json = false): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await configCheck({ configDir, env, json, out: (s) => lines.push(s) });
  return { code, output: lines.join('\n') };
}

describe('configCheck', () => {
  it('prints the loaded configuration as YAML with every secret masked and exits 0', async () => {
    temp = await tempConfig({ 'config/instance.yaml': INSTANCE, 'config/.env': `HOOK=${HOOK_SECRET}\n` });
    const { code, output } = await run(temp.configDir, ENV);
    assert.equal(code, 0, output);
    for (const secret of SECRETS) assert.ok(!output.includes(secret), `secret ${secret} printed:\n${output}`);
    const printed = parse(output) as { instance: { instance: { name: string }; dataSource: { keboola: { storageToken: string } }; server: { hostname: string } } };
    assert.equal(printed.instance.instance.name, 'Masking test');
    assert.equal(printed.instance.dataSource.keboola.storageToken, '***');
    assert.equal(printed.instance.server.hostname, 'host-***');
    assert.ok(!('secrets' in printed));
  });

  it('prints JSON with --json, secrets masked', async () => {
    temp = await tempConfig({ 'config/instance.yaml': INSTANCE, 'config/.env': `HOOK=${HOOK_SECRET}\n` });
    const { code, output } = await run(temp.configDir, ENV, true);
    assert.equal(code, 0);
    for (const secret of SECRETS) assert.ok(!output.includes(secret), `secret ${secret} printed`);
    const printed = JSON.parse(output) as { instance: { jira: { apiToken: string; webhookSecret: string } }; warnings: unknown[] };
    assert.equal(printed.instance.jira.apiToken, '***');
    assert.equal(printed.instance.jira.webhookSecret, '***');
    assert.ok(Array.isArray(printed.warnings));
  });

  it('prints warnings as YAML comments ahead of the configuration', async () => {
    temp = await tempConfig({ 'config/instance.yaml': `${INSTANCE}colour: blue\n`, 'config/.env': `HOOK=${HOOK_SECRET}\n` });
    const { code, output } = await run(temp.configDir, ENV);
    assert.equal(code, 0);
    assert.match(output.split('\n')[0]!, /^# warning: .*instance\.yaml:\d+: colour: unknown key/);
  });

  it('prints one file:line line per problem and exits 2 when the configuration is invalid', async () => {
    const text = INSTANCE.replace('  name: Masking test\n', '').replace('type: keboola', 'type: nope');
    temp = await tempConfig({ 'config/instance.yaml': text });
    const { code, output } = await run(temp.configDir, ENV);
    assert.equal(code, 2);
    const file = path.join(temp.configDir, 'instance.yaml');
    assert.deepEqual(output.split('\n'), [
      `${file}:1: instance: missing required key "name"`,
      `${file}:${lineOf(text, 'type: nope')}: data_source.type: unknown value "nope", expected one of keboola, csv, bigquery`,
      `${file}:${lineOf(text, 'webhook_secret')}: jira.webhook_secret: environment variable HOOK is not set (neither in the environment nor in ${path.join(temp.configDir, '.env')})`,
    ]);
    for (const secret of SECRETS) assert.ok(!output.includes(secret));
  });

  it('prints the problems as JSON with --json', async () => {
    temp = await tempConfig({ 'config/instance.yaml': 'instance: [\n' });
    const { code, output } = await run(temp.configDir, {}, true);
    assert.equal(code, 2);
    const { problems } = JSON.parse(output) as { problems: Array<{ file: string; line: number; message: string }> };
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.file, path.join(temp.configDir, 'instance.yaml'));
    assert.match(problems[0]!.message, /invalid YAML/);
  });

  it('exits 2 naming the path looked at when instance.yaml is missing', async () => {
    temp = await tempConfig({});
    const { code, output } = await run(path.join(temp.root, 'absent'), {});
    assert.equal(code, 2);
    assert.ok(output.includes(path.join(temp.root, 'absent', 'instance.yaml')), output);
  });
});
