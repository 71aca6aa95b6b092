import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseDotenv } from '../../../config/index.ts';
import { loadConfig } from '../../../connectors/index.ts';
import { TABLE_KEYS } from '../../../config/load-tables.ts';
import { CONNECTOR_CONFIGS, CONNECTORS } from '../../../connectors/index.ts';
import { tempConfig } from './temp-config.ts';
import type { TempConfig } from './temp-config.ts';

const repo = new URL('../../../', import.meta.url);
const read = (relative: string): Promise<string> => readFile(new URL(relative, repo), 'utf8');

let temp: TempConfig | undefined;
afterEach(async () => {
  await temp?.remove();
  temp = undefined;
});

describe('shipped examples', () => {
  it('instance.yaml.example and data_description.md.example load without problems or unknown keys', async () => {
    temp = await tempConfig({
      'config/instance.yaml': await read('config/instance.yaml.example'),
      'config/data_description.md': await read('config/data_description.md.example'),
    });
    const config = await loadConfig({ configDir: temp.configDir, env: { WEBAPP_SECRET_KEY: 'an-example-secret-key-0123456789' } });
    assert.deepEqual(config.tables.map((t) => t.name), ['orders', 'customers', 'order_lines', 'budget']);
    assert.deepEqual(config.warnings?.filter((w) => /unknown key/.test(w.message)), []);
    assert.equal(config.instance.jira, undefined, 'Jira stays off without JIRA_DOMAIN');
  });

  it('enables Jira in the example once JIRA_DOMAIN is set', async () => {
    temp = await tempConfig({ 'config/instance.yaml': await read('config/instance.yaml.example') });
    const config = await loadConfig({
      configDir: temp.configDir,
      env: { WEBAPP_SECRET_KEY: 'an-example-secret-key-0123456789', JIRA_DOMAIN: 'acme.atlassian.net', JIRA_API_TOKEN: 'tok', JIRA_EMAIL: 'a@b.c', JIRA_WEBHOOK_SECRET: 'sec' },
    });
    assert.equal(config.instance.jira?.domain, 'acme.atlassian.net');
    assert.ok(config.secrets.includes('tok'));
  });

  it('.env.template is valid .env syntax and sets nothing until values are filled in', async () => {
    const { values, problems } = parseDotenv(await read('config/.env.template'));
    assert.deepEqual(problems, []);
    assert.deepEqual(values, {});
  });

  it('.env.template names every variable the instance.yaml example uses', async () => {
    const template = await read('config/.env.template');
    const values = JSON.stringify(parse(await read('config/instance.yaml.example')));
    const used = [...values.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!);
    assert.ok(used.length > 5);
    for (const name of new Set(used)) assert.match(template, new RegExp(`^# ${name}=`, 'm'), name);
  });

  it('docs/configuration.md documents every table key, those of the connectors included', async () => {
    const doc = await read('docs/configuration.md');
    for (const key of [...TABLE_KEYS, ...CONNECTOR_CONFIGS.flatMap((c) => c.tableKeys)]) assert.ok(doc.includes(`| \`${key}\``), `table key ${key} is not documented`);
    for (const key of ['instance.name', 'auth.allowed_domain', 'auth.webapp_secret_key', 'data_source.type', 'data_source.csv.dir', 'jira.domain', 'datasets.<key>.requires', 'catalog.order']) {
      assert.ok(doc.includes(`\`${key}\``), `instance key ${key} is not documented`);
    }
  });

  it('every connector names a docs page that exists', async () => {
    for (const c of CONNECTORS) {
      const [file, anchor] = c.docs.split('#');
      const text = await read(file!);
      if (anchor) assert.ok(text.toLowerCase().includes(`# ${anchor.replaceAll('-', ' ')}`), `${c.type}: no heading for #${anchor} in ${file}`);
    }
  });
});
