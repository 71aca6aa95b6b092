/** Resume with `since`: the log after it, then live notifications, with no gap and no duplicate. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeMap, switchMap, timer } from 'rxjs';
import type { NewEvent } from '../../../events/index.ts';
import { dispatched, published, silent, startGateway, TestClient } from './harness.ts';

/** Positions must be exactly `from`, `from + 1`, … `to` (every event of these tests notifies). */
function assertConsecutive(positions: number[], from: number, to: number): void {
  const expected = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const dups = positions.filter((p, i) => positions.indexOf(p) !== i);
  assert.deepEqual(dups, [], 'duplicates');
  assert.deepEqual(positions, expected);
}

test('since=4 replays 5..10, then live ones, with no gap or duplicate while appends race the replay', async (t) => {
  const h = await startGateway(t, { before: async (log) => void await log.appendAll(Array.from({ length: 10 }, (_, i) => published('orders', i + 1))) });
  const client = await TestClient.connect(t, h.wsUrl);
  client.send({ type: 'auth', token: 'tok-ann', since: 4 });
  // Appends start before the server has even read the auth message, and continue through the replay.
  const racing = (async () => {
    for (let i = 0; i < 40; i++) {
      await h.log.append(published('orders', 100 + i));
      if (i % 5 === 0) await new Promise((r) => setImmediate(r));
    }
  })();
  const ok = await client.next((m) => m.type === 'auth_ok');
  assert.equal(ok.since, 4);
  assert.ok((ok.position as number) >= 10);
  await racing;
  const got = await client.notificationsCount(46);
  await new Promise((r) => setTimeout(r, 100));
  assertConsecutive(client.notifications.map((n) => n.position), 5, 50);
  assert.equal(got[0]?.message, 'Table orders updated: 5 rows');
  // Ids are the event ids: distinct and stable.
  assert.equal(new Set(client.notifications.map((n) => n.id)).size, 46);
});

test('since skips events that notify nobody and notifications the user may not see, without a gap in what it may see', async (t) => {
  const events: NewEvent[] = [];
  for (let i = 1; i <= 30; i++) events.push(i % 3 === 0 ? silent(i) : i % 3 === 1 ? published('salaries', i) : published('orders', i));
  const h = await startGateway(t, { before: async (log) => void await log.appendAll(events) });
  const { client } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann', since: 0 });
  await h.log.append(published('orders', 1000));
  const got = await client.notificationsCount(11);
  assert.deepEqual(got.map((n) => n.position), [2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 31]);
});

test('a replay longer than the socket buffer is paced (pauses and resumes the read) and stays complete', async (t) => {
  const big = 'x'.repeat(1_500);
  const h = await startGateway(t, {
    options: { maxBufferedBytes: 64 * 1024, maxQueuedMessages: 1_000 },
    before: async (log) => void await log.appendAll(Array.from({ length: 3_000 }, (_, i) => dispatched(`n${i + 1}`, big))),
  });
  const client = await TestClient.connect(t, h.wsUrl);
  client.send({ type: 'auth', token: 'tok-bob', since: 0 });
  const racing = (async () => {
    for (let i = 0; i < 300; i++) await h.log.append(dispatched(`live${i}`, 'live'));
  })();
  await racing;
  await client.notificationsCount(3_300, 20_000);
  await new Promise((r) => setTimeout(r, 100));
  assertConsecutive(client.notifications.map((n) => n.position), 1, 3_300);
  assert.equal(h.gateway.stats().closed.slowConsumer, 0);
  assert.equal(client.ws.readyState, client.ws.OPEN);
  assert.ok(h.reads.length > 1, `the replay should have paused and resumed, read$ was called ${h.reads.length} time(s)`);
  assert.deepEqual(h.reads.toSorted((a, b) => a - b), h.reads, 'each resumed read starts after the previous one');
});

test('without since a client gets only what comes after auth_ok.position; since beyond the head starts at the head', async (t) => {
  const h = await startGateway(t, { before: async (log) => void await log.appendAll([published('orders', 1), published('orders', 2)]) });
  const { client: plain, reply } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  assert.equal(reply.position, 2);
  const { client: future, reply: futureReply } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob', since: 99 });
  assert.equal(futureReply.since, 2);
  await h.log.append(published('orders', 3));
  for (const c of [plain, future]) assert.deepEqual((await c.notificationsCount(1)).map((n) => n.position), [3]);
});

test('the resume window caps how far back a since reaches', async (t) => {
  const h = await startGateway(t, {
    options: { maxCatchUpEvents: 5 },
    before: async (log) => void await log.appendAll(Array.from({ length: 20 }, (_, i) => published('orders', i + 1))),
  });
  const { client, reply } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann', since: 2 });
  assert.equal(reply.since, 15);
  await h.log.append(published('orders', 21));
  assert.deepEqual((await client.notificationsCount(6)).map((n) => n.position), [16, 17, 18, 19, 20, 21]);
});

test('a live stream that lags and redelivers (at-least-once) still gives each socket every position once, none before its start', async (t) => {
  const h = await startGateway(t, {
    before: async (log) => void await log.appendAll(Array.from({ length: 5 }, (_, i) => published('orders', i + 1))),
    // Starts late, from the beginning of the log, and emits every event twice.
    follow: (log) => timer(300).pipe(switchMap(() => log.follow$(1)), mergeMap((e) => [e, e])),
  });
  const { client: plain, reply } = await TestClient.login(t, h.wsUrl, { token: 'tok-ann' });
  assert.equal(reply.position, 5);
  const { client: resumed } = await TestClient.login(t, h.wsUrl, { token: 'tok-bob', since: 2 });
  await new Promise((r) => setTimeout(r, 400));
  await h.log.appendAll([published('orders', 6), published('orders', 7)]);
  await plain.notificationsCount(2);
  await resumed.notificationsCount(5);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(plain.notifications.map((n) => n.position), [6, 7]);
  assertConsecutive(resumed.notifications.map((n) => n.position), 3, 7);
});
