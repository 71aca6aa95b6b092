/** Who receives what: private tables, addressed notifications, health reasons. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewEvent } from '../../../events/index.ts';
import { dispatched, filesPublished, published, startGateway, TestClient } from './harness.ts';

const health = (problems: Array<{ code: string; table?: string; message: string }>): NewEvent => ({ type: 'HealthChanged', v: 2, data: { status: 'degraded', previous: 'healthy', reasons: problems.map((p) => p.message), problems } });

test("an analyst does not get a private table's notification; privileged and admin do", async (t) => {
  const h = await startGateway(t);
  const { client: ann } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  const { client: pat } = await TestClient.login(t, h.wsUrl, { token: 'tok-pat' });
  const { client: root } = await TestClient.login(t, h.wsUrl, { token: 'tok-admin' });
  await h.log.append(published('salaries', 10));
  await h.log.append({ type: 'SyncFailed', v: 1, data: { runId: 'r', table: 'salaries', error: { code: 'E', message: 'boom' }, durationMs: 1 } });
  await h.log.append(dispatched('about salaries', 'private', { table: 'salaries' }));
  await h.log.append(published('orders', 20));

  for (const c of [pat, root]) {
    assert.deepEqual((await c.notificationsCount(4)).map((n) => n.table), ['salaries', 'salaries', 'salaries', 'orders']);
  }
  // The orders notification comes after the private ones, and delivery is in order: ann got none of them.
  const got = await ann.notificationsCount(1);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(ann.notifications.map((n) => n.table), ['orders']);
  assert.equal(got[0]?.message, 'Table orders updated: 20 rows');
});

test('a notification addressed to one user reaches only that user (not even admins)', async (t) => {
  const h = await startGateway(t);
  const { client: ann } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  const { client: bob } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob' });
  const { client: root } = await TestClient.login(t, h.wsUrl, { token: 'tok-admin' });
  await h.log.append(dispatched('for ann', 'just you', { to: 'ann' }));
  await h.log.append(dispatched('for all', 'everyone'));
  assert.deepEqual((await ann.notificationsCount(2)).map((n) => [n.title, n.to]), [['for ann', 'ann'], ['for all', undefined]]);
  for (const c of [bob, root]) {
    await c.notificationsCount(1);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(c.notifications.map((n) => n.title), ['for all']);
  }
});

test('health changes go to everyone, without quoting reasons about private tables', async (t) => {
  const h = await startGateway(t);
  const { client: ann } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  const { client: root } = await TestClient.login(t, h.wsUrl, { token: 'tok-admin' });
  await h.log.append(health([
    { code: 'TABLE_SYNC_FAILED', table: 'orders', message: 'table orders: last sync failed: timeout' },
    { code: 'TABLE_SYNC_FAILED', table: 'salaries', message: 'table salaries: last sync failed: payroll API down' },
  ]));
  for (const c of [ann, root]) {
    const [n] = await c.notificationsCount(1);
    assert.equal(n?.level, 'warning');
    assert.equal(n?.title, 'Broker degraded');
    assert.equal(n?.message, 'The broker is degraded (was healthy): table orders: last sync failed: timeout; 1 problem with restricted tables.');
    assert.doesNotMatch(n?.message ?? '', /salaries|payroll/);
  }
});

test('a resumed analyst does not get private notifications from the replay either', async (t) => {
  const h = await startGateway(t, { before: async (log) => void await log.appendAll([published('salaries', 1), published('orders', 2), published('salaries', 3)]) });
  const { client: ann } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann', since: 0 });
  const { client: pat } = await TestClient.login(t, h.wsUrl, { token: 'tok-pat', since: 0 });
  await h.log.append(published('orders', 4));
  assert.deepEqual((await pat.notificationsCount(4)).map((n) => n.position), [1, 2, 3, 4]);
  assert.deepEqual((await ann.notificationsCount(2)).map((n) => n.position), [2, 4]);
});

test('files of a private dataset (or one requiring it) reach privileged analysts and admins only, live and on resume', async (t) => {
  const datasets = { jira: { requires: [] }, jira_attachments: { requires: ['jira'] }, hr: { private: true, requires: [] }, hr_files: { requires: ['hr'] } };
  const h = await startGateway(t, { datasets, before: async (log) => void await log.appendAll([filesPublished('hr_files'), filesPublished('jira_attachments')]) });
  const { client: ann } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann', since: 0 });
  const { client: pat } = await TestClient.login(t, h.wsUrl, { token: 'tok-pat', since: 0 });
  const { client: root } = await TestClient.login(t, h.wsUrl, { token: 'tok-admin' });
  await h.log.append(filesPublished('hr_files'));
  await h.log.append(filesPublished('unknown_dataset'));
  await h.log.append(filesPublished('jira_attachments'));
  assert.deepEqual((await pat.notificationsCount(5)).map((n) => [n.position, n.dataset]), [[1, 'hr_files'], [2, 'jira_attachments'], [3, 'hr_files'], [4, 'unknown_dataset'], [5, 'jira_attachments']]);
  assert.deepEqual((await root.notificationsCount(3)).map((n) => n.dataset), ['hr_files', 'unknown_dataset', 'jira_attachments']);
  // The last notification comes after the private ones, and delivery is in order: ann got none of them.
  assert.deepEqual((await ann.notificationsCount(2)).map((n) => [n.position, n.dataset, n.title]), [[2, 'jira_attachments', 'Files of jira_attachments updated'], [5, 'jira_attachments', 'Files of jira_attachments updated']]);
  assert.equal(ann.notifications.length, 2);
});
