import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import type { AdaConfig } from '../../../config/index.ts';
import { connectorCommands, SERVICE_CONNECTORS, startServices } from '../../../connectors/index.ts';
import type { OpenCommandBroker, RunningService } from '../../../connectors/index.ts';
import { jiraBench } from './jira-harness.ts';
import type { JiraBench } from './jira-harness.ts';

const MIN = 60_000;

/** An opener handing the command the bench's own log, blobs and runner (the log is held by the bench). */
function openerFor(b: JiraBench, config: AdaConfig): OpenCommandBroker {
  return async () => ({ config, dataDir: b.dataDir, log: b.log, blobs: b.blobs, runner: b.runner, close: async () => undefined });
}

function configFor(domain: string | undefined, secret?: string): AdaConfig {
  return {
    configDir: '/cfg', instanceFile: '/cfg/instance.yaml', tables: [], folderMapping: {}, descriptionFiles: [], secrets: [],
    instance: {
      instance: { name: 't' }, server: {}, admins: [], users: {}, datasets: {}, catalog: { categories: {}, order: [] },
      auth: { allowedDomain: 'example.com', webappSecretKey: 'k', allowedEmails: [] }, dataSource: { type: 'csv', csv: { dir: '.' } },
      ...(domain ? { jira: { domain, email: 'bot@example.com', apiToken: 'tok-secret', ...(secret ? { webhookSecret: secret } : {}) } } : {}),
    },
  };
}

async function runBackfill(b: JiraBench, args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const command = connectorCommands(openerFor(b, configFor(b.fake.url)))[0]!;
  const { parseArgs } = await import('node:util');
  const parsed = parseArgs({ args, options: command.options, allowPositionals: false });
  const out: string[] = [];
  const err: string[] = [];
  const code = await command.run(parsed, { env: {}, out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false, signal: new AbortController().signal });
  return { code, out, err };
}

describe('Jira backfill and timers', () => {
  it('backfills by JQL across search pages, skips existing issues and dry-runs', async (t) => {
    const b = await jiraBench(t);
    for (let i = 1; i <= 130; i++) b.fake.put(`ADA-${i}`, { created: `2024-0${1 + (i % 3)}-10T10:00:00.000+0000`, updated: '2024-04-01T10:00:00.000+0000' });
    const dry = await runBackfill(b, ['--jql', 'project = ADA', '--dry-run', '--json']);
    assert.equal(dry.code, 0);
    assert.equal(JSON.parse(dry.out[0]!).keys.length, 130);
    assert.equal((await b.events('JiraIssueChanged')).length, 0);
    const first = await runBackfill(b, ['--issue-keys', 'ADA-1,ADA-2', '--parallel', '2']);
    assert.equal(first.code, 0, first.err.join('\n'));
    const all = await runBackfill(b, ['--jql', 'project = ADA', '--skip-existing', '--parallel', '8', '--json']);
    const result = JSON.parse(all.out[0]!);
    assert.deepEqual([result.total, result.fetched, result.skipped], [130, 128, 2]);
    assert.ok(b.fake.requests.filter((r) => r.path === '/rest/api/3/search/jql').length >= 2, 'paged with nextPageToken');
    await b.settle();
    assert.equal((await b.rows('issues')).length, 130);
    assert.deepEqual(await b.files('issues'), ['2024_01.parquet', '2024_02.parquet', '2024_03.parquet']);
  });

  it('refreshes only remote links with --remote-links', async (t) => {
    const b = await jiraBench(t);
    b.fake.put('ADA-1', { created: '2024-01-10T10:00:00.000+0000', updated: '2024-01-10T10:00:00.000+0000', summary: 'Kept' });
    await runBackfill(b, ['--issue-keys', 'ADA-1']);
    b.fake.put('ADA-1', { created: '2024-01-10T10:00:00.000+0000', updated: '2024-01-10T10:00:00.000+0000', summary: 'Not fetched' });
    b.fake.issues.get('ADA-1')!.remoteLinks = [{ id: 9, object: { url: 'https://example.com/x', title: 'X' } }];
    const before = b.fake.requests.length;
    const r = await runBackfill(b, ['--issue-keys', 'ADA-1', '--remote-links']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(b.fake.requests.slice(before).map((x) => x.path), ['/rest/api/3/issue/ADA-1/remotelink']);
    await b.settle();
    assert.equal((await b.rows('issues'))[0]!.summary, 'Kept');
    assert.deepEqual((await b.rows('remote_links')).map((x) => x.url), ['https://example.com/x']);
  });

  it('runs the consistency pass on the scheduler: reports and backfills missing and stale issues', async (t) => {
    const b = await jiraBench(t, { consistencyMaxBackfill: 2 });
    for (let i = 1; i <= 3; i++) b.fake.put(`ADA-${i}`, { created: '2024-01-10T10:00:00.000+0000', updated: '2024-01-11T10:00:00.000+0000' });
    await runBackfill(b, ['--issue-keys', 'ADA-1']);
    await b.settle();
    b.fake.put('ADA-1', { created: '2024-01-10T10:00:00.000+0000', updated: '2024-01-12T10:00:00.000+0000', summary: 'Stale here' });
    await b.advanceTo(30 * MIN);
    await b.settle();
    const fired = (await b.events('TimerFired')).map((e) => e.type === 'TimerFired' && e.data.timer);
    assert.deepEqual(fired, ['jira:consistency']);
    const [report] = await b.events('JiraConsistencyChecked');
    assert.ok(report && report.type === 'JiraConsistencyChecked');
    assert.deepEqual([report.data.missing, report.data.stale, report.data.level], [['ADA-2', 'ADA-3'], ['ADA-1'], 'critical']);
    assert.equal(report.data.backfilled.length, 2);
    await b.advanceTo(60 * MIN);
    await b.settle();
    const reports = await b.events('JiraConsistencyChecked');
    assert.equal(reports.length, 2);
    const last = reports[1]!;
    assert.ok(last.type === 'JiraConsistencyChecked');
    assert.equal(last.data.missing.length + last.data.stale.length, 1);
    assert.equal(last.data.level, 'warning');
    assert.deepEqual(b.runtime.timerSpecs.map((s) => s.name), ['jira:consistency', 'jira:consistency-deep']);
  });

  it('skips a firing while the previous pass still runs (no stacking)', async (t) => {
    let release!: () => void;
    const b = await jiraBench(t, {}, { sleepGate: new Promise<void>((r) => (release = r)) });
    b.fake.put('ADA-1', { created: '2024-01-10T10:00:00.000+0000', updated: '2024-01-11T10:00:00.000+0000' });
    // The search is rate-limited once: the pass waits in its retry sleep until the test releases it.
    b.fake.rateLimits = [{ match: /search\/jql/, count: 1, retryAfter: '1' }];
    b.scheduler.maxFrames = 30 * MIN;
    b.scheduler.flush();
    while (b.delays.length === 0) await new Promise((r) => setImmediate(r));
    b.scheduler.maxFrames = 60 * MIN;
    b.scheduler.flush();
    while ((await b.events('TimerSkipped')).length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await b.events('JiraConsistencyChecked')).length, 0, 'the first pass is still waiting');
    release();
    await b.runtime.timersIdle();
    assert.deepEqual((await b.events('TimerFired')).map((e) => e.type === 'TimerFired' && e.data.scheduledAt), ['1970-01-01T00:30:00.000Z']);
    assert.equal((await b.events('JiraConsistencyChecked')).length, 1);
  });

  it('leaves no trace when Jira is not configured', async () => {
    const config = configFor(undefined);
    assert.equal(SERVICE_CONNECTORS.some((s) => s.enabled(config, {})), false);
    const services: RunningService[] = await startServices({ config, env: {}, log: undefined as never, blobs: undefined as never, runner: undefined as never, dataDir: '/nonexistent', warn: () => undefined });
    assert.equal(services.length, 0);
    const app = Fastify();
    for (const s of services) await app.register(s.routes);
    assert.equal((await app.inject({ method: 'POST', url: '/webhooks/jira', payload: '{}' })).statusCode, 404);
    assert.equal(SERVICE_CONNECTORS.find((s) => s.type === 'jira')?.enabled(config, { JIRA_DOMAIN: 'acme.atlassian.net' }), true);
  });
});
