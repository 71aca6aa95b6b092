import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RecordedEvent } from '../../../events/index.ts';
import { delivery } from '../../fixtures/jira/webhook-sender.ts';
import { jiraBench } from './jira-harness.ts';

const T0 = Date.parse('2024-03-05T10:00:00Z');

describe('Jira webhook', () => {
  it('accepts only deliveries signed with the secret, refuses bad JSON and oversize bodies', async (t) => {
    const b = await jiraBench(t);
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000' });
    const d = delivery('jira:issue_created', b.fake.webhookIssue('ADA-1'), T0);
    assert.equal((await b.sender.send(d, { signature: 'sha256=' + '0'.repeat(64) })).status, 401);
    assert.equal((await b.sender.send(d, { signature: null })).status, 401);
    assert.equal((await b.sender.send(d, { signature: 'md5=abc' })).status, 401);
    assert.equal((await b.sender.send(d, { corrupt: true })).status, 401);
    assert.equal((await b.sender.send(d, { raw: '{"webhookEvent": ' })).status, 400);
    const big = await b.app.inject({ method: 'POST', url: '/webhooks/jira', headers: { 'content-type': 'application/json', 'x-hub-signature': 'sha256=00' }, payload: `{"pad":"${'x'.repeat(1024 * 1024)}"}` });
    assert.equal(big.statusCode, 413);
    assert.equal((await b.events('JiraWebhookReceived')).length, 0, 'nothing refused is recorded');
    // Jira down: the delivery is still recorded and answered, since the request path never calls Jira.
    await b.fake.stop();
    const ok = await b.sender.send(d);
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { ok: true, duplicate: false });
    const recorded = await b.events('JiraWebhookReceived');
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]!.key, `jira-webhook:${d.id}`);
  });

  it('refuses every delivery with 503 when no secret is configured, and health says so', async (t) => {
    const b = await jiraBench(t, { webhookSecret: undefined });
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000' });
    const res = await b.sender.send(delivery('jira:issue_created', b.fake.webhookIssue('ADA-1'), T0));
    assert.equal(res.status, 503);
    assert.equal((await b.events('JiraWebhookReceived')).length, 0);
    const checks = await b.runtime.healthChecks(new Date());
    assert.equal(checks.find((c) => c.name === 'jira:webhook')?.status, 'unhealthy');
  });

  it('records a retried delivery once and the issue lands once', async (t) => {
    const b = await jiraBench(t);
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000', summary: 'First' });
    const d = delivery('jira:issue_created', b.fake.webhookIssue('ADA-1'), T0);
    const answers = await b.sender.sendAll([d], { duplicate: 3, concurrency: 4 });
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);
    await b.settle();
    assert.equal((await b.events('JiraWebhookReceived')).length, 1);
    const issues = await b.rows('issues');
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.summary, 'First');
    assert.equal(issues[0]!.description, 'About ADA-1');
    assert.equal(issues[0]!.custom_fields, JSON.stringify({ 'Story points': 3 }));
    assert.deepEqual(await b.files('issues'), ['2024_03.parquet']);
    const published = await b.events('TablePublished');
    assert.ok(published.some((e) => e.type === 'TablePublished' && e.data.table === 'issues' && e.data.dataset === 'jira' && e.data.files[0]!.partition === '2024_03'));
  });

  it('never lets an older version overwrite a newer one, whatever order deliveries come in', async (t) => {
    const b = await jiraBench(t);
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000', summary: 'Old' });
    const old = delivery('jira:issue_created', b.fake.webhookIssue('ADA-1'), T0);
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-06T10:00:00.000+0000', summary: 'New' });
    const fresh = delivery('jira:issue_updated', b.fake.webhookIssue('ADA-1'), T0 + 86_400_000);
    // Jira unreachable: the reactor falls back to the bodies, which arrive newest first.
    b.fake.failing = [/\/issue\//];
    await b.sender.send(fresh);
    await b.settle();
    await b.sender.send(old);
    await b.settle();
    const issues = await b.rows('issues');
    assert.deepEqual(issues.map((r) => [r.summary, r.fetched]), [['New', 'webhook']]);
    assert.ok(b.warnings.some((w) => w.includes('using the webhook body')));
  });

  it('removes a deleted issue from every table, even when a late update follows', async (t) => {
    const b = await jiraBench(t);
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000', comments: 2, histories: 2 });
    b.fake.put('ADA-2', { created: '2024-03-07T10:00:00.000+0000', updated: '2024-03-07T10:00:00.000+0000', comments: 1 });
    const upd = delivery('jira:issue_updated', b.fake.webhookIssue('ADA-1'), T0);
    await b.sender.sendAll([upd, delivery('jira:issue_created', b.fake.webhookIssue('ADA-2'), T0)]);
    await b.settle();
    assert.equal((await b.rows('comments')).length, 3);
    const body = b.fake.webhookIssue('ADA-1');
    b.fake.issues.delete('ADA-1');
    await b.sender.send(delivery('jira:issue_deleted', body, T0 + 1000));
    await b.settle();
    await b.sender.send(delivery('jira:issue_updated', body, T0 + 500));
    await b.settle();
    assert.deepEqual((await b.rows('issues')).map((r) => r.issue_key), ['ADA-2']);
    assert.deepEqual((await b.rows('comments')).map((r) => r.issue_key), ['ADA-2']);
    assert.deepEqual(await b.rows('changelog'), []);
    assert.equal((await b.events('JiraIssueDeleted')).length, 1);
  });

  it('pages comments and changelog past 100 entries', async (t) => {
    const b = await jiraBench(t);
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000', comments: 250, histories: 130 });
    await b.sender.send(delivery('jira:issue_updated', b.fake.webhookIssue('ADA-1'), T0));
    await b.settle();
    const comments = await b.rows('comments', 'comment_id');
    assert.equal(comments.length, 250);
    assert.equal(new Set(comments.map((c) => c.comment_id)).size, 250);
    assert.ok(comments.some((c) => c.body === 'comment 250'));
    assert.equal((await b.rows('changelog')).length, 130);
    assert.ok(b.fake.requests.filter((r) => r.path.includes('/comment?')).length >= 3);
  });

  it('retries 429s after Retry-After, and keeps the last remote links when fetching them fails', async (t) => {
    const b = await jiraBench(t);
    const issue = b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000' });
    issue.remoteLinks = [{ id: 1, globalId: 'g1', relationship: 'mentioned in', object: { url: 'https://example.com/doc', title: 'Doc' }, application: { name: 'Confluence' } }];
    b.fake.rateLimits = [{ match: /\/issue\/ADA-1$/, count: 2, retryAfter: '7' }];
    await b.sender.send(delivery('jira:issue_updated', b.fake.webhookIssue('ADA-1'), T0));
    await b.settle();
    assert.deepEqual(b.delays, [7000, 7000]);
    assert.equal((await b.rows('remote_links')).length, 1);
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-06T10:00:00.000+0000', summary: 'Changed' });
    b.fake.failing = [/remotelink$/];
    await b.sender.send(delivery('jira:issue_updated', b.fake.webhookIssue('ADA-1'), T0 + 1000));
    await b.settle();
    assert.equal((await b.rows('issues'))[0]!.summary, 'Changed');
    assert.deepEqual((await b.rows('remote_links')).map((r) => r.url), ['https://example.com/doc']);
  });

  it('loses no update when 50 deliveries for issues of one month arrive at once', async (t) => {
    const b = await jiraBench(t);
    const deliveries = Array.from({ length: 50 }, (_, i) => {
      const key = `ADA-${i + 1}`;
      b.fake.put(key, { created: `2024-03-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00.000+0000`, updated: '2024-03-30T10:00:00.000+0000' });
      return delivery('jira:issue_created', b.fake.webhookIssue(key), T0 + i);
    });
    const answers = await b.sender.sendAll(deliveries, { concurrency: 50 });
    assert.ok(answers.every((a) => a.status === 200));
    await b.settle();
    const issues = await b.rows('issues');
    assert.equal(issues.length, 50);
    assert.equal(new Set(issues.map((r) => r.issue_key)).size, 50);
    assert.deepEqual(await b.files('issues'), ['2024_03.parquet']);
  });

  it('rewrites each table of a month whose rows a later update changed, and leaves the others as they were', async (t) => {
    const b = await jiraBench(t);
    const at = (minute: number): string => `2024-03-06T10:${String(minute).padStart(2, '0')}:00.000+0000`;
    const deliver = async (key: string, minute: number, opts: { comments: number; histories: number }): Promise<void> => {
      b.fake.put(key, { created: '2024-03-05T10:00:00.000+0000', updated: at(minute), summary: `v${minute}`, ...opts });
      await b.sender.send(delivery('jira:issue_updated', b.fake.webhookIssue(key), T0 + minute));
      await b.settle();
    };
    const count = async (table: string): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const r of await b.rows(table)) out[String(r.issue_key)] = (out[String(r.issue_key)] ?? 0) + 1;
      return out;
    };
    await deliver('ADA-1', 1, { comments: 2, histories: 1 });
    await deliver('ADA-2', 2, { comments: 1, histories: 1 });
    const commentsFile = path.join(b.dataDir, 'parquet', 'jira', 'comments', '2024_03.parquet');
    const before = await stat(commentsFile);
    await deliver('ADA-1', 3, { comments: 2, histories: 2 });
    assert.deepEqual(await count('changelog'), { 'ADA-1': 2, 'ADA-2': 1 });
    const after = await stat(commentsFile);
    assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'the comments of the month did not change: their file was not written again');
    await deliver('ADA-1', 4, { comments: 3, histories: 2 });
    assert.deepEqual(await count('comments'), { 'ADA-1': 3, 'ADA-2': 1 });
    assert.deepEqual((await b.rows('issues', 'issue_key')).map((r) => r.summary), ['v4', 'v2']);
    const body = b.fake.webhookIssue('ADA-2');
    b.fake.issues.delete('ADA-2');
    await b.sender.send(delivery('jira:issue_deleted', body, T0 + 5));
    await b.settle();
    assert.deepEqual([await count('issues'), await count('comments'), await count('changelog')], [{ 'ADA-1': 1 }, { 'ADA-1': 3 }, { 'ADA-1': 2 }]);
  });

  it('stores attachments up to the limit under sanitised names', async (t) => {
    const b = await jiraBench(t, { attachmentMaxBytes: 1000 });
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000' });
    b.fake.attach('ADA-1', '501', '../../etc/passwd', Buffer.from('small file'));
    b.fake.attach('ADA-1', '502', 'big.bin', Buffer.alloc(5000, 1));
    await b.sender.send(delivery('jira:issue_updated', b.fake.webhookIssue('ADA-1'), T0));
    await b.settle();
    const rows = await b.rows('attachments', 'attachment_id');
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.local_path, 'attachments/jira/ADA-1/501_etc_passwd');
    assert.equal(rows[1]!.blob_sha256, null);
    assert.match(String(rows[1]!.skipped), /larger than/);
    const { readFile } = await import('node:fs/promises');
    const path = await import('node:path');
    assert.equal(await readFile(path.join(b.dataDir, String(rows[0]!.local_path)), 'utf8'), 'small file');
  });

  it('announces each issue\'s downloaded attachment files with FilesPublished, only when they change', async (t) => {
    const b = await jiraBench(t, { attachmentMaxBytes: 1000 });
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-05T10:00:00.000+0000' });
    b.fake.attach('ADA-1', '601', '../a.txt', Buffer.from('first'));
    b.fake.attach('ADA-1', '602', 'big.bin', Buffer.alloc(5000, 1));
    await b.sender.send(delivery('jira:issue_created', b.fake.webhookIssue('ADA-1'), T0));
    await b.settle();
    const sets = async () => (await b.events('FilesPublished')).map((e) => (e as RecordedEvent & { type: 'FilesPublished' }).data);
    const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
    assert.deepEqual(await sets(), [{ dataset: 'jira_attachments', folder: 'attachments/jira/ADA-1', files: [{ path: 'attachments/jira/ADA-1/601_a.txt', bytes: 5, sha256: sha('first') }] }]);
    // A change that leaves the attachments as they were announces nothing.
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-06T10:00:00.000+0000', summary: 'renamed' });
    b.fake.attach('ADA-1', '601', '../a.txt', Buffer.from('first'));
    await b.sender.send(delivery('jira:issue_updated', b.fake.webhookIssue('ADA-1'), T0 + 1));
    await b.settle();
    assert.equal((await sets()).length, 1);
    // Another file added: the whole set again.
    b.fake.put('ADA-1', { created: '2024-03-05T10:00:00.000+0000', updated: '2024-03-07T10:00:00.000+0000' });
    b.fake.attach('ADA-1', '601', '../a.txt', Buffer.from('first'));
    b.fake.attach('ADA-1', '603', 'b.txt', Buffer.from('second'));
    await b.sender.send(delivery('jira:issue_updated', b.fake.webhookIssue('ADA-1'), T0 + 2));
    await b.settle();
    assert.deepEqual((await sets())[1]!.files.map((f) => f.path), ['attachments/jira/ADA-1/601_a.txt', 'attachments/jira/ADA-1/603_b.txt']);
    // The issue deleted: its folder's set is emptied.
    const body = b.fake.webhookIssue('ADA-1');
    b.fake.issues.delete('ADA-1');
    await b.sender.send(delivery('jira:issue_deleted', body, T0 + 3));
    await b.settle();
    assert.deepEqual((await sets())[2], { dataset: 'jira_attachments', folder: 'attachments/jira/ADA-1', files: [] });
  });
});
