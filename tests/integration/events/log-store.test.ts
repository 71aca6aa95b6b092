import assert from 'node:assert/strict';
import { constants as fsConstants } from 'node:fs';
import { open, readdir, readFile, readlink, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import type { Observable } from 'rxjs';
import { EventLog, EventLogReader, hasCode } from '../../../events/index.ts';
import type { RecordedEvent } from '../../../events/index.ts';
import { timerEvent } from '../../helpers/events.ts';
import { tempDir } from '../../helpers/tmp.ts';

const quiet = { warn: () => undefined };

async function readAll(log: { read$(from?: number): Observable<RecordedEvent> }, from = 1): Promise<RecordedEvent[]> {
  return lastValueFrom(log.read$(from).pipe(toArray()));
}

describe('event log', () => {
  it('round-trips appended events with metadata, in order', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet, defaultSource: 'test' });
    const results = await Promise.all([1, 2, 3].map((n) => log.append(timerEvent(n))));
    assert.deepEqual(results.map((r) => r.position), [1, 2, 3]);
    const events = await readAll(log);
    assert.equal(events.length, 3);
    assert.deepEqual(events.map((e) => (e.type === 'TimerFired' ? e.data.timer : '')), ['timer-1', 'timer-2', 'timer-3']);
    assert.equal(events[0]!.source, 'test');
    assert.match(events[0]!.id, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(events[0]!.at)));
    assert.deepEqual((await readAll(log, 2)).map((e) => e.position), [2, 3]);
    await log.close();
  });

  it('rolls segments at the configured size and reads across them', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { segmentBytes: 2048, logger: quiet });
    for (let i = 0; i < 100; i++) await log.append(timerEvent(i));
    await log.close();
    const segments = (await readdir(dir)).filter((n) => n.endsWith('.seg'));
    assert.ok(segments.length > 5, `expected several segments, got ${segments.length}`);
    for (const s of segments) assert.ok((await stat(path.join(dir, s))).size <= 2048 + 200);
    const reopened = await EventLog.open(dir, { segmentBytes: 2048, logger: quiet });
    const events = await readAll(reopened, 37);
    assert.deepEqual(events.map((e) => e.position), Array.from({ length: 64 }, (_, i) => i + 37));
    assert.equal((await reopened.append(timerEvent(100))).position, 101);
    await reopened.close();
  });

  it('records an idempotency key once, also after a restart and across segments', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { segmentBytes: 1024, logger: quiet });
    const [a, b] = await Promise.all([log.append(timerEvent(1, 'webhook-1')), log.append(timerEvent(2, 'webhook-1'))]);
    assert.equal(a!.position, 1);
    assert.deepEqual([b!.position, b!.duplicate], [1, true]);
    for (let i = 0; i < 30; i++) await log.append(timerEvent(i, `k-${i}`));
    await log.close();
    const reopened = await EventLog.open(dir, { segmentBytes: 1024, logger: quiet });
    const again = await reopened.append(timerEvent(3, 'webhook-1'));
    assert.deepEqual([again.position, again.duplicate], [1, true]);
    const k5 = await reopened.append(timerEvent(3, 'k-5'));
    assert.deepEqual([k5.position, k5.duplicate], [7, true]);
    assert.equal((await readAll(reopened)).length, 31);
    await reopened.close();
    // Without the key index sidecars the keys are rebuilt by scanning.
    for (const n of await readdir(dir)) if (n.endsWith('.keys.json')) await writeFile(path.join(dir, n), '{broken');
    const rescanned = await EventLog.open(dir, { segmentBytes: 1024, logger: quiet });
    assert.equal((await rescanned.append(timerEvent(9, 'k-29'))).duplicate, true);
    await rescanned.close();
  });

  describe('key checkpoint of the active segment', () => {
    /** A log whose active segment outgrows the checkpoint threshold (1 MiB): 5,000 events, every 1,000th keyed, the last keyed `last`. */
    async function bigLog(dir: string): Promise<string> {
      const log = await EventLog.open(dir, { logger: quiet });
      await Promise.all(Array.from({ length: 4999 }, (_, i) => log.append(timerEvent(i, i % 1000 === 0 ? `k-${i}` : undefined))));
      await log.append(timerEvent(4999, 'last'));
      await log.close();
      const [name] = (await readdir(dir)).filter((n) => n.endsWith('.keys.json'));
      assert.ok(name, 'a checkpoint beside the active segment');
      return path.join(dir, name);
    }
    const plant = async (file: string): Promise<void> => {
      const index = JSON.parse(await readFile(file, 'utf8')) as { keys: Record<string, number> };
      index.keys.planted = 3;
      await writeFile(file, JSON.stringify(index));
    };

    it('is written at close and used on open instead of scanning the segment from its start', async (t) => {
      const dir = await tempDir(t);
      const file = await bigLog(dir);
      const index = JSON.parse(await readFile(file, 'utf8')) as { last: number; offset: number; keys: Record<string, number> };
      assert.equal(index.last, 5000);
      assert.equal(index.offset, (await stat(file.replace(/\.keys\.json$/, '.seg'))).size);
      assert.deepEqual(index.keys, { 'k-0': 1, 'k-1000': 1001, 'k-2000': 2001, 'k-3000': 3001, 'k-4000': 4001, last: 5000 });
      // A key only the checkpoint names is honoured: the records before its offset were not scanned.
      await plant(file);
      const reopened = await EventLog.open(dir, { logger: quiet });
      const planted = await reopened.append(timerEvent(1, 'planted'));
      assert.deepEqual([planted.position, planted.duplicate], [3, true]);
      assert.equal((await reopened.append(timerEvent(2, 'k-4000'))).duplicate, true);
      assert.equal((await reopened.append(timerEvent(3))).position, 5001);
      await reopened.close();
    });

    it('scans the records appended after it (a process that did not close cleanly)', async (t) => {
      const dir = await tempDir(t);
      const file = await bigLog(dir);
      const stale = await readFile(file, 'utf8');
      const second = await EventLog.open(dir, { logger: quiet });
      await second.append(timerEvent(1, 'after-checkpoint'));
      await second.close();
      await writeFile(file, stale); // as if the second process had been killed before its close
      const reopened = await EventLog.open(dir, { logger: quiet });
      assert.deepEqual([(await reopened.append(timerEvent(2, 'after-checkpoint'))).position, (await reopened.append(timerEvent(3, 'k-1000'))).position], [5001, 1001]);
      assert.equal((await reopened.append(timerEvent(4))).position, 5002);
      await reopened.close();
    });

    it('is ignored once the segment no longer holds the bytes it describes (a cut tail)', async (t) => {
      const dir = await tempDir(t);
      const file = await bigLog(dir);
      await plant(file);
      const segment = file.replace(/\.keys\.json$/, '.seg');
      await truncate(segment, (await stat(segment)).size - 5); // the last record, keyed `last`, is torn
      const reopened = await EventLog.open(dir, { logger: quiet });
      const last = await reopened.append(timerEvent(1, 'last'));
      assert.deepEqual([last.position, last.duplicate], [5000, false]);
      assert.equal((await reopened.append(timerEvent(2, 'planted'))).duplicate, false, 'the forged checkpoint was not used');
      assert.equal((await reopened.append(timerEvent(3, 'k-0'))).position, 1);
      await reopened.close();
    });
  });

  it('indexes the keys of a group commit that mixes events with and without keys', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    const results = await Promise.all([
      log.append(timerEvent(1)), log.append(timerEvent(2)), log.append(timerEvent(3, 'mixed-1')),
      log.append(timerEvent(4)), log.append(timerEvent(5, 'mixed-2')),
    ]);
    assert.deepEqual(results.map((r) => r.position), [1, 2, 3, 4, 5]);
    assert.equal(log.positionOfKey('mixed-1'), 3);
    assert.equal(log.positionOfKey('mixed-2'), 5);
    const again = await log.append(timerEvent(6, 'mixed-2'));
    assert.deepEqual([again.position, again.duplicate], [5, true]);
    const ids = new Set(results.map((r) => r.id));
    assert.equal(ids.size, 5);
    await log.close();
  });

  it('truncates a torn tail back to the last valid record, with a warning', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 5; i++) await log.append(timerEvent(i));
    await log.close();
    const seg = path.join(dir, '00000000000000000001.seg');
    const { size } = await stat(seg);
    await truncate(seg, size - 10);
    const warnings: string[] = [];
    const reopened = await EventLog.open(dir, { logger: { warn: (m) => warnings.push(m) } });
    assert.equal(reopened.head, 4);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /torn tail/);
    assert.equal((await reopened.append(timerEvent(6))).position, 5);
    assert.deepEqual((await readAll(reopened)).map((e) => e.position), [1, 2, 3, 4, 5]);
    await reopened.close();
  });

  it('treats zeros after the last record (a crash before the data reached disk) as a torn tail', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 3; i++) await log.append(timerEvent(i));
    await log.close();
    const fh = await open(path.join(dir, '00000000000000000001.seg'), 'a');
    await fh.write(Buffer.alloc(300));
    await fh.close();
    const reopened = await EventLog.open(dir, { logger: quiet });
    assert.equal(reopened.head, 3);
    await reopened.close();
  });

  it('refuses to open over a corrupt record in the middle, naming segment and offset', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 5; i++) await log.append(timerEvent(i));
    await log.close();
    const seg = path.join(dir, '00000000000000000001.seg');
    const bytes = await readFile(seg);
    const secondRecord = 8 + bytes.readUInt32LE(0);
    bytes[secondRecord + 20] = bytes[secondRecord + 20]! ^ 0xff;
    await writeFile(seg, bytes);
    await assert.rejects(EventLog.open(dir, { logger: quiet }), (err: unknown) => {
      assert.ok(hasCode(err, 'LOG_CORRUPT'));
      assert.match((err as Error).message, /00000000000000000001\.seg/);
      assert.match((err as Error).message, new RegExp(`offset ${secondRecord}\\b`));
      return true;
    });
    await assert.rejects(lastValueFrom(new EventLogReader(dir).read$(1).pipe(toArray())), (err: unknown) => hasCode(err, 'LOG_CORRUPT'));
  });

  it('reads no further than the durable head a writer in this process gives its reader', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 5; i++) await log.append(timerEvent(i));
    let durable = 3;
    const reader = new EventLogReader(dir, { durableHead: () => durable });
    let reached = 0;
    assert.deepEqual((await lastValueFrom(reader.read$(1, { reached: (p) => void (reached = p) }).pipe(toArray()))).map((e) => e.position), [1, 2, 3]);
    assert.equal(reached, 3);
    durable = 5;
    assert.deepEqual((await readAll(reader, 3)).map((e) => e.position), [3, 4, 5]);
    assert.deepEqual((await readAll(new EventLogReader(dir))).map((e) => e.position), [1, 2, 3, 4, 5], 'without it, to the end of the files');
    await log.close();
  });

  it('detects corruption in a sealed segment while reading', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { segmentBytes: 1024, logger: quiet });
    for (let i = 1; i <= 40; i++) await log.append(timerEvent(i));
    await log.close();
    const seg = path.join(dir, '00000000000000000001.seg');
    const bytes = await readFile(seg);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
    await writeFile(seg, bytes);
    await assert.rejects(lastValueFrom(new EventLogReader(dir).read$(1).pipe(toArray())), (err: unknown) => hasCode(err, 'LOG_CORRUPT'));
  });

  it('refuses a second writer with LOCKED naming the holder', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    await assert.rejects(EventLog.open(dir, { logger: quiet }), (err: unknown) => {
      assert.ok(hasCode(err, 'LOCKED'));
      assert.match((err as Error).message, new RegExp(`process ${process.pid}\\b`));
      return true;
    });
    await log.close();
    const again = await EventLog.open(dir, { logger: quiet });
    await again.close();
  });

  it('rejects appends after close and events of unknown types', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    await assert.rejects(log.append({ type: 'Nope', v: 1, data: {} } as never), (err: unknown) => hasCode(err, 'BAD_ARGUMENT'));
    await log.close();
    assert.throws(() => log.append(timerEvent(1)), (err: unknown) => hasCode(err, 'CLOSED'));
  });

  it('rejects an event it cannot record alone, at once, and records the rest of its batch as appended', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    const first = timerEvent(1);
    const appends = [
      log.append(first),
      log.append({ ...timerEvent(2), data: { n: 1n } } as never),
      log.append({ ...timerEvent(3), data: { note: 'x'.repeat(17 * 1024 * 1024) } } as never),
      log.append(timerEvent(4)),
    ];
    // Encoded when appended: a later change to the event object is not recorded.
    (first.data as { timer: string }).timer = 'changed';
    const results = await Promise.allSettled(appends);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    for (const r of results) if (r.status === 'rejected') assert.ok(hasCode(r.reason, 'BAD_ARGUMENT'));
    const events = await readAll(log);
    assert.deepEqual(events.map((e) => [e.position, e.type === 'TimerFired' ? e.data.timer : '']), [[1, 'timer-1'], [2, 'timer-4']]);
    await log.close();
  });

  it('groups concurrent appends into few writes', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    // Count the log's writes (each durable: see the next test): every FileHandle shares one prototype.
    const probe = await open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write(...args: unknown[]): Promise<unknown> };
    await probe.close();
    const write = proto.write;
    let writes = 0;
    proto.write = function (this: unknown, ...args: unknown[]) {
      writes++;
      return write.apply(this, args);
    };
    t.after(() => {
      proto.write = write;
    });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => log.append(timerEvent(i))));
    proto.write = write;
    const events = await readAll(log);
    assert.equal(events.length, 2000);
    assert.ok(writes >= 1 && writes <= 5, `expected group commits of up to 4,000 records, saw ${writes} writes for 2,000 appends`);
    const times = log.commitTimes();
    assert.equal(times.commits, writes, 'commitTimes counts each group commit');
    assert.ok(times.p50Ms > 0 && times.p50Ms <= times.p99Ms && times.p99Ms <= times.maxMs, JSON.stringify(times));
    await log.close();
  });

  it('writes its active segment through a descriptor opened with O_DSYNC, so a returned write is durable', { skip: process.platform !== 'linux' }, async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet, segmentBytes: 1024 });
    const activeFlags = async (): Promise<number[]> => {
      const flags: number[] = [];
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (!target.startsWith(dir) || !target.endsWith('.seg')) continue;
        const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
        const m = /^flags:\s+([0-7]+)/m.exec(info);
        if (m) flags.push(parseInt(m[1]!, 8));
      }
      return flags;
    };
    const O_DSYNC = fsConstants.O_DSYNC;
    const O_APPEND = fsConstants.O_APPEND;
    for (const phase of ['new log', 'after segment rolls', 'reopened']) {
      if (phase === 'after segment rolls') for (let i = 0; i < 40; i++) await log.append(timerEvent(i));
      const l = phase === 'reopened' ? await (async () => {
        await log.close();
        return EventLog.open(dir, { logger: quiet, segmentBytes: 1024 });
      })() : log;
      const flags = await activeFlags();
      assert.equal(flags.length, 1, `${phase}: one segment open for writing`);
      assert.equal(flags[0]! & O_DSYNC, O_DSYNC, `${phase}: O_DSYNC set (flags ${flags[0]!.toString(8)})`);
      assert.equal(flags[0]! & O_APPEND, O_APPEND, `${phase}: O_APPEND set`);
      if (phase === 'reopened') await l.close();
    }
  });

  it('follow$ hands over from catch-up to live with no gap and no duplicate', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet, segmentBytes: 8192 });
    for (let i = 1; i <= 300; i++) await log.append(timerEvent(i));
    const total = 1500;
    const received = lastValueFrom(log.follow$(1).pipe(take(total), toArray()));
    // Appends race the catch-up read.
    const writers = Promise.all(Array.from({ length: 10 }, async (_, w) => {
      for (let i = 0; i < 120; i++) await log.append(timerEvent(1000 * w + i));
    }));
    const [events] = await Promise.all([received, writers]);
    assert.deepEqual(events.map((e) => e.position), Array.from({ length: total }, (_, i) => i + 1));
    const fromMiddle = await firstValueFrom(log.follow$(1200));
    assert.equal(fromMiddle.position, 1200);
    await log.close();
  });

  it('reads and follows only the types asked for, and says where a read ended', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    const started = (n: number): Parameters<EventLog['append']>[0] => ({ type: 'SyncStarted', v: 1, data: { runId: `run-${n}`, table: 't', source: 'csv', strategy: 'full', trigger: 'manual' } });
    for (let i = 1; i <= 6; i++) await log.append(i % 3 === 0 ? started(i) : timerEvent(i));
    await log.append(timerEvent(7));
    let reached = 0;
    const some = await lastValueFrom(log.read$(2, { types: ['SyncStarted'], reached: (p) => void (reached = p) }).pipe(toArray()));
    assert.deepEqual(some.map((e) => [e.position, e.type]), [[3, 'SyncStarted'], [6, 'SyncStarted']]);
    assert.equal(reached, 7);
    const reader = new EventLogReader(dir);
    assert.deepEqual((await lastValueFrom(reader.read$(1, { types: ['SyncStarted'] }).pipe(toArray()))).map((e) => e.position), [3, 6]);
    // Catch-up then live, in one process and from another.
    const followed = lastValueFrom(log.follow$(1, { types: ['SyncStarted'] }).pipe(take(4), toArray()));
    const polled = lastValueFrom(reader.follow$(4, { types: ['SyncStarted'] }).pipe(take(3), toArray()));
    for (let i = 8; i <= 12; i++) await log.append(i % 2 === 0 ? started(i) : timerEvent(i));
    assert.deepEqual((await followed).map((e) => e.position), [3, 6, 8, 10]);
    assert.deepEqual((await polled).map((e) => e.position), [6, 8, 10]);
    await log.close();
  });

  it('hands durable records to followers after the appends resolved, and all of them by close', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    const seen: number[] = [];
    let live!: () => void;
    const caughtUp = new Promise<void>((resolve) => (live = resolve));
    log.follow$(1).subscribe((e) => {
      seen.push(e.position);
      if (e.position === 1) live();
    });
    // Position 1 comes live (appended after the subscription), so the catch-up read is over once it came.
    await log.append(timerEvent(1));
    await caughtUp;
    const second = await log.append(timerEvent(2));
    // The append's caller runs before followers get its record (a webhook is answered first).
    assert.deepEqual(seen, [1]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [1, second.position]);
    void log.append(timerEvent(3));
    await log.close();
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('recorded$ tells the position and type of each record appended after the subscription', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    await log.append(timerEvent(1));
    const seen = lastValueFrom(log.recorded$().pipe(take(3), toArray()));
    await log.append(timerEvent(2));
    await Promise.all([log.append({ type: 'SyncStarted', v: 1, data: { runId: 'r', table: 't', source: 'csv', strategy: 'full', trigger: 'manual' } }), log.append(timerEvent(4))]);
    assert.deepEqual(await seen, [{ position: 2, type: 'TimerFired' }, { position: 3, type: 'SyncStarted' }, { position: 4, type: 'TimerFired' }]);
    await log.close();
  });

  it('a reader in another process follows new records (polling)', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    await log.append(timerEvent(1));
    const reader = new EventLogReader(dir);
    const got = lastValueFrom(reader.follow$(1).pipe(take(3), toArray()));
    await log.append(timerEvent(2));
    await log.append(timerEvent(3));
    assert.deepEqual((await got).map((e) => e.position), [1, 2, 3]);
    await log.close();
  });
});
