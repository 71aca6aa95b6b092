/** Pings: a client that stops answering them is closed after the configured number of misses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseCode } from '../../../portal/notifications/index.ts';
import { startGateway, TestClient, within } from './harness.ts';

test('a client that stops answering pings is closed with 4008 after 3 missed pongs; a live one stays', async (t) => {
  const h = await startGateway(t, { options: { pingIntervalMs: 100, maxMissedPongs: 3 } });
  let pings = 0;
  // ws answers pings by itself; autoPong: false makes this client a dead peer that still has an open socket.
  const { client: dead } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' }, { autoPong: false });
  dead.ws.on('ping', () => pings++);
  const { client: alive } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob' });
  const started = Date.now();
  const closed = await within(dead.closed, 3_000, 'the dead client to be closed');
  const elapsed = Date.now() - started;
  assert.deepEqual(closed, { code: CloseCode.timeout, reason: 'ping timeout' });
  assert.equal(pings, 3, 'closed after exactly 3 unanswered pings');
  assert.ok(elapsed >= 250, `closed after ${elapsed} ms: too early for 3 missed pongs at 100 ms`);
  assert.equal(h.gateway.stats().closed.pingTimeout, 1);

  await new Promise((r) => setTimeout(r, 600));
  assert.equal(alive.ws.readyState, alive.ws.OPEN);
});

test('an unauthenticated client that stops answering pings is closed too', async (t) => {
  const h = await startGateway(t, { options: { pingIntervalMs: 50, maxMissedPongs: 2, authTimeoutMs: 60_000 } });
  const idle = await TestClient.connect(t, h.wsUrl, { autoPong: false });
  assert.deepEqual(await within(idle.closed, 2_000, 'the close'), { code: CloseCode.timeout, reason: 'ping timeout' });
});
