/** A client that stops reading is closed with 1013 once its buffer limit is hit; the others are not delayed. */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { CloseCode } from '../../../portal/notifications/index.ts';
import { dispatched, eventually, startGateway, TestClient, within } from './harness.ts';

/** The TCP socket under a ws client (ws keeps it private): pausing it stops reading, so the server's buffers fill. */
const tcpOf = (client: TestClient): Socket => (client.ws as unknown as { _socket: Socket })._socket;

test('a client that never reads is closed with 1013 while a normal client receives everything promptly', async (t) => {
  const h = await startGateway(t, { options: { maxBufferedBytes: 256 * 1024, maxQueuedMessages: 1_000, closeGraceMs: 60_000, pingIntervalMs: 60_000 } });
  const { client: stuck } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  const { client: normal } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob' });
  tcpOf(stuck).pause();

  // ~2 kB per notification: enough to fill the kernel's socket buffers (a few MB on loopback) and then ours.
  const body = 'y'.repeat(1_900);
  const count = 6_000;
  const events = Array.from({ length: count }, (_, i) => dispatched(`n${i}`, body));
  for (let i = 0; i < count; i += 200) await h.log.appendAll(events.slice(i, i + 200));
  // No time bound (it would flake on a loaded machine): the normal client gets everything while the stuck one
  // is still paused, so delivery to it never waited for the stuck socket to drain.
  await normal.notificationsCount(count, 60_000);

  assert.deepEqual(normal.notifications.map((n) => n.position), Array.from({ length: count }, (_, i) => i + 1));
  assert.ok(tcpOf(stuck).isPaused(), 'the stuck client was still not reading');
  await eventually(() => h.gateway.stats().closed.slowConsumer === 1, 30_000, 'the stuck client to be judged slow');
  assert.equal(h.gateway.stats().authenticated, 1);

  // Once it reads again it drains what was already written, then finds the close frame.
  tcpOf(stuck).resume();
  assert.deepEqual(await within(stuck.closed, 30_000, 'the stuck client to see its close'), { code: CloseCode.slowConsumer, reason: 'slow consumer' });
  assert.ok(stuck.notifications.length < count, 'the stuck client must not have been sent everything');
  assert.equal(normal.ws.readyState, normal.ws.OPEN);
});

test('a slow client is cut off after the close grace when it never drains', async (t) => {
  const h = await startGateway(t, { options: { maxBufferedBytes: 64 * 1024, closeGraceMs: 200, pingIntervalMs: 60_000 } });
  const { client: stuck } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  tcpOf(stuck).pause();
  const body = 'z'.repeat(1_900);
  for (let i = 0; i < 30; i++) await h.log.appendAll(Array.from({ length: 200 }, (_, j) => dispatched(`m${i}-${j}`, body)));
  await eventually(() => h.gateway.stats().closed.slowConsumer === 1, 30_000, 'the stuck client to be judged slow');
  // The server destroys the socket after the grace: its close frame, queued behind the backlog, is
  // dropped with it, so the client sees an abnormal close (1006) rather than 1013.
  await new Promise((r) => setTimeout(r, 400));
  tcpOf(stuck).resume();
  const closed = await within(stuck.closed, 30_000, 'the stuck client to be cut off');
  assert.equal(closed.code, 1006);
});

test('a resuming client that stops reading is closed with 1013 once the live messages held for it pass the limit', async (t) => {
  const body = 'w'.repeat(1_900);
  const h = await startGateway(t, {
    options: { maxBufferedBytes: 64 * 1024, maxQueuedMessages: 50, closeGraceMs: 60_000, pingIntervalMs: 60_000 },
    before: async (log) => {
      for (let i = 0; i < 25; i++) await log.appendAll(Array.from({ length: 200 }, (_, j) => dispatched(`old${i}-${j}`, body)));
    },
  });
  const { client: normal } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob' });
  const stuck = await TestClient.connect(t, h.wsUrl);
  stuck.send({ type: 'auth', token: 'tok-ann', since: 0 });
  tcpOf(stuck).pause();
  await eventually(() => h.gateway.stats().catchingUp === 1, 30_000, 'the replay to start');
  // The replay stalls on the full socket; live messages pile up for it.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(h.gateway.stats().closed.slowConsumer, 0, 'a stalled replay alone is not a slow consumer');
  for (let i = 0; i < 60; i++) await h.log.append(dispatched(`live${i}`, 'live'));
  await eventually(() => h.gateway.stats().closed.slowConsumer === 1, 30_000, 'the stuck client to be judged slow');
  assert.equal((await normal.notificationsCount(60)).length, 60);
  tcpOf(stuck).resume();
  assert.deepEqual(await within(stuck.closed, 30_000, 'the stuck client to see its close'), { code: CloseCode.slowConsumer, reason: 'slow consumer' });
});

test('a burst bigger than the buffer limit, appended in one batch, does not close clients that read', async (t) => {
  const h = await startGateway(t, { options: { maxBufferedBytes: 64 * 1024 } });
  const clients = await Promise.all(['tok-ann', 'tok-bob', 'tok-pat'].map(async (token) => (await TestClient.login(t, h.wsUrl, { token })).client));
  // 400 × ~1.2 kB ≈ 480 kB per socket in one tick: a burst, not a backlog.
  await h.log.appendAll(Array.from({ length: 400 }, (_, i) => dispatched(`b${i}`, 'b'.repeat(1_100))));
  for (const c of clients) assert.equal((await c.notificationsCount(400)).length, 400);
  assert.equal(h.gateway.stats().closed.slowConsumer, 0);
});

test('shutting down does not wait out the close grace of a slow consumer', async (t) => {
  const h = await startGateway(t, { options: { maxBufferedBytes: 64 * 1024, closeGraceMs: 1_000, pingIntervalMs: 60_000 } });
  const { client: stuck } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  tcpOf(stuck).pause();
  const body = 'v'.repeat(1_900);
  for (let i = 0; i < 30 && h.gateway.stats().closed.slowConsumer === 0; i++) await h.log.appendAll(Array.from({ length: 200 }, (_, j) => dispatched(`s${i}-${j}`, body)));
  await eventually(() => h.gateway.stats().closed.slowConsumer === 1, 30_000, 'the stuck client to be judged slow');
  // Bounded by closeGraceMs (1 s: the slow consumer never completes its close handshake), not by ws's own 30 s;
  // the guard sits between the two with room for a loaded machine.
  await within(h.app.close(), 15_000, 'app.close() (bounded by the 1 s close grace, not ws\'s 30 s)');
});
