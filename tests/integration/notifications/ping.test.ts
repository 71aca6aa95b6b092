/** Pings: a client that stops answering them is closed after the configured number of misses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode } from '../../../portal/notifications/index.ts';
import { eventually, startGateway, TestClient, within } from './harness.ts';

test('a client that stops answering pings is closed with 4008 after 3 missed pongs; a live one stays', async (t) => {
  const h = await startGateway(t, { options: { pingIntervalMs: 100, maxMissedPongs: 3 } });
  let pings = 0;
  let alivePings = 0;
  // ws answers pings by itself; autoPong: false makes this client a dead peer that still has an open socket.
  // The server pings every socket from the moment it accepts it, so the listener is attached before the socket opens.
  const dead = await TestClient.connect(t, h.wsUrl, { autoPong: false }, (ws) => ws.on('ping', () => pings++));
  dead.send({ type: 'auth', token: 'tok-ann' });
  assert.equal((await dead.next((m) => m.type === 'auth_ok' || m.type === 'auth_error')).type, 'auth_ok');
  const alive = await TestClient.connect(t, h.wsUrl, {}, (ws) => ws.on('ping', () => alivePings++));
  alive.send({ type: 'auth', token: 'tok-bob' });
  await alive.next((m) => m.type === 'auth_ok');
  const closed = await within(dead.closed, 30_000, 'the dead client to be closed');
  assert.deepEqual(closed, { code: CloseCode.timeout, reason: 'ping timeout' });
  // Pings precede the close frame on the same connection, so every one of them has arrived by now.
  assert.equal(pings, 3, 'closed after exactly 3 unanswered pings');
  assert.equal(h.gateway.stats().closed.pingTimeout, 1);

  // The live client answers: after more pings than would close a dead one, it is still open.
  const seen = alivePings;
  await eventually(() => alivePings >= seen + 5, 30_000, 'five more pings to the live client');
  assert.equal(alive.ws.readyState, alive.ws.OPEN);
  assert.equal(h.gateway.stats().closed.pingTimeout, 1);
});

test('an unauthenticated client that stops answering pings is closed too', async (t) => {
  const h = await startGateway(t, { options: { pingIntervalMs: 50, maxMissedPongs: 2, authTimeoutMs: 60_000 } });
  const idle = await TestClient.connect(t, h.wsUrl, { autoPong: false });
  assert.deepEqual(await within(idle.closed, 30_000, 'the close'), { code: CloseCode.timeout, reason: 'ping timeout' });
});
