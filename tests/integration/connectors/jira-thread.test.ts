/**
 * Jira as `ada serve` runs it: the webhook route on the main thread, the fetch reactor, projection and timers on a
 * thread of their own that reads the log's files and appends through the main thread's log.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLog } from '../../../events/index.ts';
import type { RecordedEvent } from '../../../events/index.ts';
import { jiraConnector } from '../../../connectors/jira/index.ts';
import type { JiraThreadRuntime } from '../../../connectors/jira/index.ts';
import { FakeJira } from '../../fixtures/jira/fake-jira.ts';
import { delivery, WebhookSender } from '../../fixtures/jira/webhook-sender.ts';
import { readParquet } from '../../helpers/parquet.ts';
import { servedRuntime, testSettings } from './jira-harness.ts';

const T0 = Date.parse('2024-03-05T10:00:00Z');

interface Threaded { dataDir: string; fake: FakeJira; log: EventLog; runtime: JiraThreadRuntime; sender: WebhookSender; warnings: string[]; events(type: string): Promise<RecordedEvent[]>; settle(): Promise<void> }

async function threaded(t: TestContext): Promise<Threaded> {
  const warnings: string[] = [];
  const { dataDir, fake, log, runtime, address } = await servedRuntime(t, 'ada-jira-thread-', ({ dataDir, fake, log, blobs }) => (
    jiraConnector.startThread({ settings: testSettings(fake), log, blobs, dataDir, warn: (m) => warnings.push(m) })
  ));
  return {
    dataDir, fake, log, runtime, warnings, sender: new WebhookSender(`${address}/webhooks/jira`, 'whsec-test-0123456789'),
    events: async (type) => lastValueFrom(log.read$(1, { types: [type] }).pipe(toArray())),
    settle: async () => {
      for (let i = 0; i < 20; i++) {
        const at = await runtime.pump();
        if (at.reactor >= log.head && at.projection >= log.head) return;
      }
      assert.fail('the Jira thread did not catch up');
    },
  };
}

describe('Jira on its own thread', () => {
  it('turns deliveries into monthly Parquet through the main thread\'s log, and answers health from the thread', async (t) => {
    const b = await threaded(t);
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000', comments: 2 });
    b.fake.put('ADA-2', { created: '2024-04-02T10:00:00.000+0000', updated: '2024-04-02T10:00:00.000+0000' });
    const first = delivery('jira:issue_created', b.fake.webhookIssue('ADA-1'), T0);
    assert.equal((await b.sender.send(first)).status, 200);
    assert.equal((await b.sender.send(first)).status, 200, 'a retried delivery is answered');
    assert.equal((await b.sender.send(delivery('jira:issue_created', b.fake.webhookIssue('ADA-2'), T0 + 1))).status, 200);
    await b.settle();
    assert.equal((await b.events('JiraWebhookReceived')).length, 2, 'the retry is recorded once');
    assert.deepEqual((await b.events('JiraIssueChanged')).map((e) => e.type === 'JiraIssueChanged' && e.data.issueKey).sort(), ['ADA-1', 'ADA-2']);
    const rows = await readParquet(path.join(b.dataDir, 'parquet', 'jira', 'issues', '*.parquet'), { orderBy: 'issue_key' });
    assert.deepEqual(rows.map((r) => r.issue_key), ['ADA-1', 'ADA-2']);
    assert.equal((await readParquet(path.join(b.dataDir, 'parquet', 'jira', 'comments', '2024_03.parquet'))).length, 2);
    const published = await b.events('TablePublished');
    assert.ok(published.some((e) => e.type === 'TablePublished' && e.data.table === 'issues' && e.data.files.length === 2), 'both months announced');
    const checks = await b.runtime.healthChecks(new Date('2024-04-02T12:00:00Z'));
    assert.deepEqual(checks.map((c) => [c.name, c.status]), [['jira:webhook', 'healthy'], ['jira:freshness', 'healthy']]);
    assert.deepEqual(b.warnings, []);
  });

  it('is started again when its thread stops, and health says it is down meanwhile', async (t) => {
    const b = await threaded(t);
    const thread = b.runtime.thread();
    assert.ok(thread);
    await thread.terminate();
    const down = await b.runtime.healthChecks(new Date());
    assert.equal(down.length, 1);
    assert.equal(down[0]!.name, 'jira:runtime');
    assert.equal(down[0]!.status, 'unhealthy');
    assert.match(down[0]!.message, /stopped/);
    // Deliveries are still recorded while it is down, and handled once it runs again.
    b.fake.put('ADA-3', { created: '2024-05-01T10:00:00.000+0000', updated: '2024-05-01T10:00:00.000+0000' });
    assert.equal((await b.sender.send(delivery('jira:issue_created', b.fake.webhookIssue('ADA-3'), T0))).status, 200);
    while (!b.warnings.some((w) => /running again/.test(w))) await new Promise((r) => setTimeout(r, 20));
    assert.match(b.warnings[0]!, /stopped .*starting it again in 1 s/);
    assert.notEqual(b.runtime.thread(), thread);
    await b.settle();
    assert.deepEqual((await b.events('JiraIssueChanged')).map((e) => e.type === 'JiraIssueChanged' && e.data.issueKey), ['ADA-3']);
  });

  it('fails to start with the thread\'s reason', async (t) => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ada-jira-thread-'));
    const fake = await new FakeJira().start();
    const log = await EventLog.open(path.join(dataDir, 'events'));
    t.after(async () => {
      await log.close();
      await fake.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    await mkdir(path.join(dataDir, 'metadata', 'checkpoints'), { recursive: true });
    await writeFile(path.join(dataDir, 'metadata', 'checkpoints', 'jira.json'), '{"position":');
    await assert.rejects(jiraConnector.startThread({ settings: testSettings(fake), log, dataDir, warn: () => undefined }), /jira\.json is not valid JSON/);
  });
});
