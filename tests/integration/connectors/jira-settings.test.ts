import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { loadConfig } from '../../../connectors/index.ts';
import { readJiraConfig } from '../../../connectors/jira/settings.ts';
import { MINIMAL_INSTANCE, tempConfig } from '../config/temp-config.ts';

async function jiraOf(t: TestContext, domain: string): Promise<ReturnType<typeof readJiraConfig>> {
  const tree = await tempConfig({ 'config/instance.yaml': `${MINIMAL_INSTANCE.trimEnd()}\njira:\n  domain: ${domain}\n  email: bot@example.com\n  api_token: tok\n  webhook_secret: sec\n` });
  t.after(() => tree.remove());
  const config = await loadConfig({ configDir: tree.configDir, env: {} });
  return readJiraConfig(config, {});
}

describe('jira.domain', () => {
  it('implies https for a bare host, and keeps https given explicitly', async (t) => {
    assert.equal((await jiraOf(t, 'acme.atlassian.net')).settings?.baseUrl, 'https://acme.atlassian.net');
    assert.equal((await jiraOf(t, 'https://acme.atlassian.net/')).settings?.baseUrl, 'https://acme.atlassian.net');
  });

  it('keeps an explicit http:// for a loopback host (a local or test Jira)', async (t) => {
    assert.equal((await jiraOf(t, 'http://127.0.0.1:8080')).settings?.baseUrl, 'http://127.0.0.1:8080');
    assert.equal((await jiraOf(t, 'http://localhost:8080/')).settings?.baseUrl, 'http://localhost:8080');
  });

  it('refuses plain http to another machine: the API token would travel in clear', async (t) => {
    const { settings, problems } = await jiraOf(t, 'http://acme.atlassian.net');
    assert.equal(settings, undefined);
    assert.equal(problems[0]?.path, 'jira.domain');
    assert.match(problems[0]!.message, /loopback/);
  });
});
