/**
 * Jira's tables are published by its projection, not by a sync: they still reach the catalog, get profiled, and
 * follow the same privacy and dataset rules as configured tables, with no Jira-specific code outside connectors/jira.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogTable, catalogTables } from '../../../config/index.ts';
import { loadConfig } from '../../../connectors/index.ts';
import { tablePrivacy } from '../../../pipeline/index.ts';
import { exclusionOf } from '../../../pipeline/projections/manifest/for-analyst.ts';
import { runCli, startServe } from '../../helpers/cli.ts';
import { csvInstance, PUBLIC_AND_PRIVATE_TABLES } from '../../helpers/instance.ts';
import { delivery, WebhookSender } from '../../fixtures/jira/webhook-sender.ts';
import { jiraServedInstance, SECRET } from './jira-harness.ts';
import { until } from '../../helpers/until.ts';

const JIRA_TABLES = ['attachments', 'changelog', 'comments', 'issuelinks', 'issues', 'remote_links'];

interface CatalogView { name: string; published: boolean; rows: number; private: boolean; dataset?: string }

describe('Jira tables in the catalog', () => {
  it('ada serve: a webhook publishes Jira tables that appear in /api/catalog with profiles; analysts see them by the usual rules', { timeout: 240_000 }, async (t) => {
    const { fake, inst, tokens, env } = await jiraServedInstance(t, [['bob', []], ['carol', ['--private']]]);
    const serve = await startServe(t, inst.flags, { env });
    const get = async <T>(who: string, url: string): Promise<T> => {
      const res = await fetch(`${serve.url}${url}`, { headers: { authorization: `Bearer ${tokens[who]}` } });
      assert.equal(res.status, 200, `${url}: ${res.status}`);
      return await res.json() as T;
    };
    const catalog = async (who: string): Promise<CatalogView[]> => (await get<{ categories: Array<{ tables: CatalogView[] }> }>(who, '/api/catalog')).categories.flatMap((c) => c.tables);

    fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000', comments: 2, histories: 1 });
    fake.put('ADA-2', { created: '2024-04-01T08:00:00.000+0000', updated: '2024-04-02T08:00:00.000+0000', comments: 1 });
    const sender = new WebhookSender(`${serve.url}/webhooks/jira`, SECRET);
    for (const [i, key] of ['ADA-1', 'ADA-2'].entries()) {
      assert.equal((await sender.send(delivery('jira:issue_created', fake.webhookIssue(key), 1_700_000_000_000 + i))).status, 200);
    }

    // Published by the projection (TablePublished), the tables appear with their rows; then the broker profiles them.
    const issues = await until('issues published in /api/catalog', async () => (await catalog('bob')).find((v) => v.name === 'issues' && v.rows === 2));
    assert.equal(issues.dataset, 'jira');
    assert.equal(issues.private, false);
    const profile = await until('a profile of issues', async () => (await get<{ profile: { row_count: number } | null }>('bob', '/api/catalog/issues')).profile ?? undefined);
    assert.equal(profile.row_count, 2);
    const comments = await until('a profile of comments', async () => (await get<{ profile: { row_count: number } | null }>('bob', '/api/catalog/comments')).profile ?? undefined);
    assert.equal(comments.row_count, 3);

    // The usual rules: the private CSV table stays hidden from a plain analyst, Jira's public tables do not.
    const bob = (await catalog('bob')).map((v) => v.name);
    for (const name of JIRA_TABLES) assert.ok(bob.includes(name), `bob sees ${name}`);
    assert.ok(!bob.includes('credit'));
    assert.ok((await catalog('carol')).some((v) => v.name === 'credit'));

    // Dataset jira: in an analyst's manifest only once subscribed; jira_attachments is a dataset of its own that requires it.
    const manifestTables = async (): Promise<string[]> => (await get<{ tables: Array<{ name: string }> }>('bob', '/api/v1/manifest')).tables.map((x) => x.name).sort();
    assert.deepEqual(await manifestTables(), [], 'not subscribed to jira: no Jira tables in the manifest (orders was never synced)');
    // jira_attachments requires jira: refused alone, accepted after it.
    const alone = await runCli(['analyst', 'subscribe', 'bob', 'jira_attachments', ...inst.flags]);
    assert.equal(alone.code, 1, alone.stderr);
    assert.match(alone.stderr, /jira_attachments requires jira/);
    for (const dataset of ['jira', 'jira_attachments']) {
      const subscribe = await runCli(['analyst', 'subscribe', 'bob', dataset, ...inst.flags]);
      assert.equal(subscribe.code, 0, subscribe.stderr);
    }
    const subscribed = await manifestTables();
    // Tables with rows were published (no issue has attachments, links or remote links: those stay unpublished).
    assert.deepEqual(subscribed, ['changelog', 'comments', 'issues']);
    assert.equal(await serve.stop(), 0);
  });

  it('jira.private makes every Jira table private; without a Jira domain nothing of Jira is declared', async (t) => {
    const inst = await csvInstance(t, PUBLIC_AND_PRIVATE_TABLES, 'jira:\n  domain: acme.atlassian.net\n  private: true\n');
    const config = await loadConfig({ configDir: inst.configDir, env: {} });
    assert.deepEqual(catalogTables(config).map((x) => x.name).filter((n) => JIRA_TABLES.includes(n)).sort(), JIRA_TABLES);
    assert.equal(catalogTable(config, 'issues')?.private, true);
    assert.equal(tablePrivacy(config)('issues'), true);
    const analyst = { name: 'bob', role: 'analyst' as const, datasets: new Set(['jira']) };
    assert.equal(exclusionOf(config, analyst, 'issues'), 'private');
    assert.equal(exclusionOf(config, { ...analyst, role: 'privileged' as const }, 'issues'), undefined);
    assert.deepEqual(Object.keys(config.instance.datasets).sort(), ['jira', 'jira_attachments']);
    assert.deepEqual(config.tables.map((x) => x.name).sort(), ['credit', 'orders'], 'ada sync still knows only the configured tables');

    const without = await csvInstance(t, PUBLIC_AND_PRIVATE_TABLES);
    const plain = await loadConfig({ configDir: without.configDir, env: {} });
    assert.deepEqual(catalogTables(plain).map((x) => x.name).sort(), ['credit', 'orders']);
    assert.deepEqual(Object.keys(plain.instance.datasets), []);
    assert.equal(tablePrivacy(plain)('issues'), true, 'an unknown table counts as private');
  });
});
