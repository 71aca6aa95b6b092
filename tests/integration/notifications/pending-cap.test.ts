/** Sockets waiting to authenticate are capped, in all and per remote address; extras are closed at once with 4029. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { CloseCode, DEFAULT_GATEWAY_OPTIONS } from '../../../portal/notifications/index.ts';
import { eventually, startGateway, TestClient, within } from './harness.ts';

const TOO_MANY = { code: CloseCode.tooManyConnections, reason: 'too many connections waiting to authenticate' };


test('the defaults are named and bounded', () => {
  assert.equal(DEFAULT_GATEWAY_OPTIONS.maxPendingAuth, 1_000);
  assert.equal(DEFAULT_GATEWAY_OPTIONS.maxPendingAuthPerAddress, 50);
});

test('3,000 unauthenticated sockets from one address: only the cap is held, the rest closed at once with 4029', { timeout: 120_000 }, async (t) => {
  const h = await startGateway(t, { options: { authTimeoutMs: 600_000, pingIntervalMs: 600_000, maxPendingAuth: 100, maxPendingAuthPerAddress: 100 } });
  const refused: Array<Promise<{ code: number; reason: string }>> = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < 3_000; i++) {
    const ws = new WebSocket(h.wsUrl);
    ws.on('error', () => undefined);
    sockets.push(ws);
    refused.push(new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))));
    // In batches, so the test does not also measure the kernel's accept backlog.
    if (i % 200 === 199) await eventually(() => h.gateway.stats().connections + h.gateway.stats().closed.tooManyPending === i + 1, 30_000, `${i + 1} sockets handled`);
  }
  t.after(() => sockets.forEach((ws) => ws.terminate()));
  await eventually(() => h.gateway.stats().closed.tooManyPending === 2_900, 30_000, '2,900 refusals');
  assert.equal(h.gateway.stats().connections, 100, 'the hub holds exactly the cap');
  const closes = await Promise.all(refused.filter((_, i) => i >= 100));
  assert.ok(closes.every((c) => c.code === TOO_MANY.code && c.reason === TOO_MANY.reason), JSON.stringify(closes.find((c) => c.code !== TOO_MANY.code)));
});

test('the per-address cap leaves room for other addresses; the global cap holds across them; authenticating frees a slot', { timeout: 60_000 }, async (t) => {
  const h = await startGateway(t, { options: { authTimeoutMs: 600_000, pingIntervalMs: 600_000, maxPendingAuth: 8, maxPendingAuthPerAddress: 5 } });
  const first: TestClient[] = [];
  for (let i = 0; i < 5; i++) first.push((await TestClient.connect(t, h.wsUrl, { localAddress: '127.0.0.1' })));
  await eventually(() => h.gateway.stats().connections === 5, 5_000, '5 pending');
  const sixth = await TestClient.connect(t, h.wsUrl, { localAddress: '127.0.0.1' });
  assert.deepEqual(await within(sixth.closed, 5_000, 'the 6th socket of 127.0.0.1 to be refused'), TOO_MANY);

  const other: TestClient[] = [];
  for (let i = 0; i < 3; i++) other.push(await TestClient.connect(t, h.wsUrl, { localAddress: '127.0.0.2' }));
  await eventually(() => h.gateway.stats().connections === 8, 5_000, '8 pending');
  const ninth = await TestClient.connect(t, h.wsUrl, { localAddress: '127.0.0.3' });
  assert.deepEqual(await within(ninth.closed, 5_000, 'a socket over the global cap to be refused'), TOO_MANY);
  assert.equal(h.gateway.stats().closed.tooManyPending, 2);

  // An authenticated socket no longer counts as pending: its address may open another.
  first[0]!.send({ type: 'auth', token: 'tok-ann' });
  await first[0]!.next((m) => m.type === 'auth_ok');
  const again = await TestClient.connect(t, h.wsUrl, { localAddress: '127.0.0.1' });
  again.send({ type: 'auth', token: 'tok-bob' });
  assert.equal((await again.next((m) => m.type === 'auth_ok')).type, 'auth_ok');
  // A pending socket that goes away frees its slot as well.
  other[0]!.ws.close();
  await within(other[0]!.closed, 5_000, 'the close');
  await eventually(() => h.gateway.stats().connections === 8, 5_000, 'the slot freed');
  const late = await TestClient.connect(t, h.wsUrl, { localAddress: '127.0.0.2' });
  late.send({ type: 'auth', token: 'tok-pat' });
  assert.equal((await late.next((m) => m.type === 'auth_ok')).type, 'auth_ok');
  assert.equal(h.gateway.stats().closed.tooManyPending, 2);
});
