import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeConfig, isSecretKey, maskSecrets } from '../../../config/index.ts';
import type { AdaConfig } from '../../../config/index.ts';

describe('isSecretKey', () => {
  it('knows the secret keys and any key naming a token, secret or password', () => {
    for (const key of ['storage_token', 'webapp_secret_key', 'sla_api_token', 'db_password', 'storageToken', 'JIRA_API_TOKEN']) assert.equal(isSecretKey(key), true, key);
    for (const key of ['google_client_id', 'ssh_public_key', 'domain', 'name']) assert.equal(isSecretKey(key), false, key);
  });
});

describe('maskSecrets', () => {
  it('replaces every occurrence, longest secret first', () => {
    assert.equal(maskSecrets('token=abcdef, prefix=abc, again abcdef', ['abc', 'abcdef']), 'token=***, prefix=***, again ***');
  });

  it('ignores empty secrets', () => {
    assert.equal(maskSecrets('unchanged', ['']), 'unchanged');
  });
});

describe('describeConfig', () => {
  const config: AdaConfig = {
    configDir: '/c',
    instanceFile: '/c/instance.yaml',
    instance: {
      instance: { name: 'n' },
      server: {},
      admins: [],
      auth: { allowedDomain: 'example.com', webappSecretKey: 'literal-key-value', allowedEmails: [], googleClientSecret: '' },
      dataSource: { type: 'keboola', keboola: { storageToken: 'kbc-token-123', stackUrl: 'https://connection.keboola.com' } },
      users: {},
      datasets: {},
      catalog: { categories: {}, order: [] },
    },
    tables: [],
    folderMapping: { 'in.c-secrets': 'finance' },
    descriptionFiles: [],
    secrets: ['kbc-token-123', 'literal-key-value'],
    warnings: [{ file: '/c/instance.yaml', message: 'mentions kbc-token-123' }],
  };

  it('replaces secret keys under instance with *** and masks secret values anywhere', () => {
    const out = describeConfig(config);
    const text = JSON.stringify(out);
    assert.ok(!text.includes('kbc-token-123'));
    assert.ok(!text.includes('literal-key-value'));
    const instance = out.instance as AdaConfig['instance'];
    assert.equal(instance.dataSource.keboola?.storageToken, '***');
    assert.equal(instance.auth.webappSecretKey, '***');
    assert.equal(instance.auth.googleClientSecret, '', 'an empty secret stays visibly empty');
    assert.equal(instance.dataSource.keboola?.stackUrl, 'https://connection.keboola.com');
    assert.match(text, /mentions \*\*\*/);
  });

  it('leaves out the secrets list but keeps user data keyed by words like "secret"', () => {
    const out = describeConfig(config);
    assert.equal('secrets' in out, false);
    assert.deepEqual(out.folderMapping, { 'in.c-secrets': 'finance' });
  });
});
