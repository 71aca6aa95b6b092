/** The gateway's handshake: auth timeout, bad credentials, the per-user limit, revocation, shutdown. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { Subject } from 'rxjs';
import { EventLog } from '../../../events/index.ts';
import { CloseCode, notificationGateway } from '../../../portal/notifications/index.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { eventually, published, startGateway, TABLES, TestClient, TOKENS, within } from './harness.ts';

test('a client that sends nothing is closed with 4008 after the auth timeout', async (t) => {
  const h = await startGateway(t, { options: { authTimeoutMs: 150 } });
  const started = Date.now();
  const client = await TestClient.connect(t, h.wsUrl);
  const closed = await within(client.closed, 3_000, 'the close');
  const elapsed = Date.now() - started;
  assert.deepEqual(closed, { code: CloseCode.timeout, reason: 'authentication timeout' });
  assert.deepEqual(client.messages, [{ type: 'auth_error', reason: 'authentication timeout' }]);
  assert.ok(elapsed >= 140, `closed after ${elapsed} ms, before the timeout`);
  assert.equal(h.gateway.stats().connections, 0);
});

test('a client that authenticates in time is not closed by the auth timer', async (t) => {
  const h = await startGateway(t, { options: { authTimeoutMs: 150 } });
  const { client, reply } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  assert.equal(reply.type, 'auth_ok');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(client.ws.readyState, client.ws.OPEN);
});

test('a good token gets auth_ok with the user, role and head; a portal session works too', async (t) => {
  const h = await startGateway(t, { before: async (log) => void await log.append(published('orders', 1)) });
  const { reply } = await TestClient.login(t, h.wsUrl, { token: 'tok-pat' });
  assert.deepEqual(reply, { type: 'auth_ok', user: 'pat', role: 'privileged', position: 1 });
  const { reply: bySession } = await TestClient.login(t, h.wsUrl, { session: 'sess-ann' });
  assert.deepEqual(bySession, { type: 'auth_ok', user: 'ann', role: 'analyst', position: 1 });
});

test('a bad token gets auth_error and close 4001', async (t) => {
  const h = await startGateway(t);
  const { client, reply } = await TestClient.login(t, h.wsUrl, { token: 'tok-nobody' });
  assert.deepEqual(reply, { type: 'auth_error', reason: 'invalid credential' });
  assert.deepEqual(await within(client.closed, 2_000, 'the close'), { code: CloseCode.unauthenticated, reason: 'invalid credential' });
  assert.equal(h.gateway.stats().authenticated, 0);
});

test('a first message that is not an auth message is refused with 4001 without calling authenticate', async (t) => {
  const h = await startGateway(t);
  for (const bad of ['hello', JSON.stringify({ type: 'subscribe' }), JSON.stringify({ type: 'auth' }), JSON.stringify({ type: 'auth', token: 'tok-ann', since: -1 })]) {
    const client = await TestClient.connect(t, h.wsUrl);
    client.ws.send(bad);
    const closed = await within(client.closed, 2_000, `the close after ${bad}`);
    assert.deepEqual(closed, { code: CloseCode.unauthenticated, reason: 'invalid auth message' }, bad);
    assert.equal(client.messages[0]?.type, 'auth_error', bad);
  }
  assert.equal(h.calls.length, 0);
});

test('the sixth connection of a user is refused with 4029; closing one frees a slot', async (t) => {
  const h = await startGateway(t);
  const five = [];
  for (let i = 0; i < 5; i++) {
    const { client, reply } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
    assert.equal(reply.type, 'auth_ok', `connection ${i + 1}`);
    five.push(client);
  }
  const { client: sixth, reply } = await TestClient.login(t, h.wsUrl, { session: 'sess-ann' });
  assert.deepEqual(reply, { type: 'auth_error', reason: 'too many connections' });
  assert.deepEqual(await within(sixth.closed, 2_000, 'the close'), { code: CloseCode.tooManyConnections, reason: 'too many connections' });
  // Another user is not affected.
  assert.equal((await TestClient.login(t, h.wsUrl, { token: 'tok-bob' })).reply.type, 'auth_ok');

  five[0]!.ws.close();
  await five[0]!.closed;
  await eventually(() => h.gateway.stats().authenticated === 5, 2_000, 'the server to see the close');
  assert.equal((await TestClient.login(t, h.wsUrl, { token: 'tok-ann' })).reply.type, 'auth_ok');
});

test('revoked$ disconnects every socket of that user with 4003 and no one else', async (t) => {
  const revoked$ = new Subject<{ name: string }>();
  const h = await startGateway(t, { revoked$ });
  const { client: ann1 } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  const { client: ann2 } = await TestClient.login(t, h.wsUrl, { session: 'sess-ann' });
  const { client: bob } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob' });

  h.tokens.delete('tok-ann');
  revoked$.next({ name: 'ann' });
  for (const c of [ann1, ann2]) {
    assert.deepEqual(await within(c.closed, 2_000, 'ann to be disconnected'), { code: CloseCode.forbidden, reason: 'access revoked' });
    assert.deepEqual(c.messages.at(-1), { type: 'auth_error', reason: 'access revoked' });
  }
  await h.log.append(published('orders', 7));
  const [n] = await bob.notificationsCount(1);
  assert.equal(n?.message, 'Table orders updated: 7 rows');
  // The revoked token no longer gets in.
  assert.deepEqual((await TestClient.login(t, h.wsUrl, { token: 'tok-ann' })).reply, { type: 'auth_error', reason: 'invalid credential' });
});

test('revalidation disconnects a removed analyst and applies a role change', async (t) => {
  const h = await startGateway(t, { options: { revalidateMs: 50 } });
  const { client: ann } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  const { client: bob } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob' });
  h.tokens.delete('tok-ann');
  assert.deepEqual(await within(ann.closed, 2_000, 'ann to be disconnected'), { code: CloseCode.forbidden, reason: 'access revoked' });

  // bob becomes privileged: from then on he receives private tables' notifications.
  await h.log.append(published('salaries', 1));
  h.tokens.set('tok-bob', { name: 'bob', role: 'privileged' });
  await new Promise((r) => setTimeout(r, 200));
  await h.log.append(published('salaries', 2));
  const [n] = await bob.notificationsCount(1);
  assert.equal(n?.message, 'Table salaries updated: 2 rows');
  assert.equal(bob.ws.readyState, bob.ws.OPEN);
});

test('closing the app closes every socket with 1001', async (t) => {
  const h = await startGateway(t);
  const { client } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  const unauthenticated = await TestClient.connect(t, h.wsUrl);
  await within(h.app.close(), 5_000, 'app.close()');
  assert.deepEqual(await client.closed, { code: CloseCode.goingAway, reason: 'server shutting down' });
  assert.deepEqual(await unauthenticated.closed, { code: CloseCode.goingAway, reason: 'server shutting down' });
});

test('a plain GET of the websocket route answers 426', async (t) => {
  const h = await startGateway(t);
  const res = await fetch(h.httpUrl + '/ws/notifications');
  assert.equal(res.status, 426);
});

test('the gateway works in an app that registered @fastify/websocket itself', async (t) => {
  const dir = await tempDir(t, 'ada-notifications-');
  const log = await EventLog.open(path.join(dir, 'events'), { logger: { warn: () => undefined } });
  const app = Fastify({ logger: false });
  await app.register(websocket);
  await app.register(notificationGateway({ log, config: { tables: TABLES }, authenticate: (c) => TOKENS[c.token ?? ''] }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    await log.close();
  });
  const { port } = app.server.address() as AddressInfo;
  const { client, reply } = await TestClient.login(t, `ws://127.0.0.1:${port}/ws/notifications`, { token: 'tok-bob' });
  assert.equal(reply.type, 'auth_ok');
  await log.append(published('orders', 3));
  assert.equal((await client.notificationsCount(1))[0]?.message, 'Table orders updated: 3 rows');
});
