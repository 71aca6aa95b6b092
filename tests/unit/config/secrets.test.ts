import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeConfig, isSecretKey, maskedExcerpt, maskSecrets } from '../../../config/index.ts';
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

describe('maskSecrets: encoded forms and cuts', () => {
  const secret = 'tok/en+with spaces&=é-0123456789';
  it('masks the URL-encoded and base64 forms at every alignment', () => {
    const encoded = [encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+')];
    for (let pad = 0; pad < 3; pad++) {
      const b64 = Buffer.from(`${'p'.repeat(pad)}${secret}!!`).toString('base64');
      encoded.push(b64, b64.replace(/\+/g, '-').replace(/\//g, '_'));
    }
    for (const form of encoded) {
      const masked = maskSecrets(`before ${form} after`, [secret]);
      const raw = Buffer.from(secret).toString('base64');
      assert.ok(!masked.includes(raw.slice(4, 16)) && !masked.includes(encodeURIComponent(secret).slice(0, 12)), `${form} -> ${masked}`);
    }
  });
  it('maskedExcerpt masks the whole text before cutting it', () => {
    for (let at = 0; at < 60; at++) {
      const text = `${'x'.repeat(at)}${secret}${'y'.repeat(40)}`;
      const cut = maskedExcerpt(text, [secret], 50);
      assert.ok(cut.length <= 50);
      for (let i = 0; i + 8 <= secret.length; i++) assert.ok(!cut.includes(secret.slice(i, i + 8)), `${at}: ${cut}`);
    }
  });
});
