/** `POST /api/notifications`: admin-only, validated, appended to the log and delivered by the fan-out. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { startGateway, TestClient } from './harness.ts';

async function post(url: string, body: unknown, token?: string, raw?: string): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url + '/api/notifications', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() as Record<string, unknown>, headers: res.headers };
}

test('401 without or with a bad token, 403 for non-admins, nothing appended', async (t) => {
  const h = await startGateway(t);
  const body = { title: 'Hi', message: 'there' };
  const none = await post(h.httpUrl, body);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await post(h.httpUrl, body, 'tok-nobody')).status, 401);
  assert.equal((await post(h.httpUrl, body, 'tok-ann')).status, 403);
  assert.equal((await post(h.httpUrl, body, 'tok-pat')).status, 403);
  // Without a token, even an invalid body is a 401: nothing is learnt before authentication.
  assert.equal((await post(h.httpUrl, { nope: 1 })).status, 401);
  assert.equal(h.log.head, 0);
});

test('400 for an invalid body, 413 for one over the limit', async (t) => {
  const h = await startGateway(t, { options: { dispatchBodyLimit: 4 * 1024 } });
  assert.equal((await post(h.httpUrl, { title: 'no message' }, 'tok-admin')).status, 400);
  assert.equal((await post(h.httpUrl, { title: 'x', message: 'y', level: 'shouting' }, 'tok-admin')).status, 400);
  assert.equal((await post(h.httpUrl, undefined, 'tok-admin', '{"title":')).status, 400);
  assert.equal((await post(h.httpUrl, { title: 'x', message: 'y'.repeat(5_000) }, 'tok-admin')).status, 413);
  assert.equal(h.log.head, 0);
});

test('an admin broadcast reaches everyone; an addressed one only its user', async (t) => {
  const h = await startGateway(t);
  const { client: ann } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  const { client: bob } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob' });

  const toAnn = await post(h.httpUrl, { title: 'Your export', message: 'is ready', level: 'success', to: 'ann' }, 'tok-admin');
  assert.equal(toAnn.status, 200);
  const all = await post(h.httpUrl, { title: 'Maintenance', message: 'at 18:00' }, 'tok-admin');
  assert.equal(all.status, 200);
  assert.deepEqual(Object.keys(all.json).sort(), ['id', 'position']);

  const annGot = await ann.notificationsCount(2);
  assert.deepEqual(annGot.map((n) => [n.id, n.title, n.message, n.level, n.to]), [
    [toAnn.json.id, 'Your export', 'is ready', 'success', 'ann'],
    [all.json.id, 'Maintenance', 'at 18:00', 'info', undefined],
  ]);
  const bobGot = await bob.notificationsCount(1);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(bob.notifications.map((n) => n.id), [all.json.id]);
  assert.equal(bobGot[0]?.position, all.json.position);

  const events = await lastValueFrom(h.log.read$(1).pipe(toArray()));
  assert.deepEqual(events.map((e) => e.type === 'NotificationDispatched' && [e.data.by, e.data.to, e.source]), [['root', 'ann', 'portal:notifications'], ['root', undefined, 'portal:notifications']]);
});
