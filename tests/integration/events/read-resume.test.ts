import assert from 'node:assert/strict';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLog, EventLogReader, hasCode, listSegments } from '../../../events/index.ts';
import type { RecordedEvent } from '../../../events/index.ts';
import { timerEvent } from '../../helpers/events.ts';
import { tempDir } from '../../helpers/tmp.ts';

const quiet = { warn: () => undefined };
const SEGMENT = '00000000000000000001.seg';

type Readable = Pick<EventLog, 'read$'> | Pick<EventLogReader, 'read$'>;

async function read(log: Readable, from: number): Promise<RecordedEvent[]> {
  return lastValueFrom(log.read$(from).pipe(toArray()));
}

/** The timers of events n..m, as `timerEvent` names them. */
function timers(n: number, m: number): string[] {
  return Array.from({ length: m - n + 1 }, (_, i) => `timer-${n + i}`);
}

function names(events: RecordedEvent[]): string[] {
  return events.map((e) => (e.data as { timer: string }).timer);
}

/** Flips a byte inside the payload of the segment's first record: a scan from byte 0 then finds a bad checksum followed by valid records. */
async function damageFirstRecord(file: string): Promise<void> {
  const bytes = await readFile(file);
  bytes[8 + 20] = bytes[8 + 20]! ^ 0xff;
  await writeFile(file, bytes);
}

describe('event log reads resume at the byte offset where the last read ended', () => {
  it('a second read from where the first ended does not scan the records before it again', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 20; i++) await log.append(timerEvent(i));
    const reader = new EventLogReader(dir);
    assert.deepEqual(names(await read(reader, 1)), timers(1, 20));
    assert.deepEqual(names(await read(log, 1)), timers(1, 20));
    for (let i = 21; i <= 25; i++) await log.append(timerEvent(i));
    // Damage behind both readers: only a reader that rescans from byte 0 can notice it.
    await damageFirstRecord(path.join(dir, SEGMENT));
    assert.deepEqual(names(await read(reader, 21)), timers(21, 25));
    assert.deepEqual(names(await read(log, 21)), timers(21, 25));
    assert.deepEqual(names(await read(reader, 23)), timers(23, 25), 'a position after a known boundary of the same segment skips forward from it');
    assert.equal(await reader.head(), 25);
    await assert.rejects(read(new EventLogReader(dir), 21), (err: unknown) => hasCode(err, 'LOG_CORRUPT'), 'a fresh reader scans from byte 0 and finds the damage');
    await log.close();
  });

  it('a reader whose cursor was pushed out by many other reads resumes near its position, not from byte 0', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 30; i++) await log.append(timerEvent(i));
    const reader = new EventLogReader(dir);
    assert.deepEqual(names(await read(reader, 1)), timers(1, 30));
    assert.deepEqual(names(await read(log, 1)), timers(1, 30));
    // A busy follower reads after each of 100 appends: more read ends than the cursors kept per log.
    for (let i = 31; i <= 130; i++) {
      await log.append(timerEvent(i));
      assert.deepEqual(names(await read(reader, i)), [`timer-${i}`]);
      assert.deepEqual(names(await read(log, i)), [`timer-${i}`]);
    }
    // Damage behind both: a read from 31 that rescans the segment from byte 0 meets it.
    await damageFirstRecord(path.join(dir, SEGMENT));
    assert.deepEqual(names(await read(reader, 31)), timers(31, 130), 'the reader resumes at a kept boundary');
    assert.deepEqual(names(await read(log, 31)), timers(31, 130), 'the writer resumes at a kept boundary');
    await log.close();
  });

  it('stays exact across segment rolls, from every position, interleaved with appends', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet, segmentBytes: 1024 });
    const reader = new EventLogReader(dir);
    let written = 0;
    let readerAt = 0;
    let logAt = 0;
    for (let round = 1; round <= 12; round++) {
      // 1, 2, ... 12 events per round: reads end before, at and after segment boundaries.
      for (let i = 0; i < round; i++) await log.append(timerEvent(++written));
      const fromReader = await read(reader, readerAt + 1);
      assert.deepEqual(fromReader.map((e) => e.position), Array.from({ length: written - readerAt }, (_, i) => readerAt + 1 + i));
      assert.deepEqual(names(fromReader), timers(readerAt + 1, written));
      readerAt = written;
      const fromLog = await read(log, logAt + 1);
      assert.deepEqual(names(fromLog), timers(logAt + 1, written));
      logAt = written;
      assert.equal(await reader.head(), written);
    }
    assert.ok((await listSegments(dir)).length >= 5, 'the log rolled several times');
    for (let from = 1; from <= written + 1; from++) {
      assert.deepEqual(names(await read(reader, from)), timers(from, written), `reader from ${from}`);
      assert.deepEqual(names(await read(log, from)), timers(from, written), `writer from ${from}`);
    }
    await log.close();
  });

  it('resumes at a torn tail, and after the next writer cuts it reads the records written in its place', async (t) => {
    const dir = await tempDir(t);
    let log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 5; i++) await log.append(timerEvent(i));
    await log.close();
    const file = path.join(dir, SEGMENT);
    // Half a record: the frame header of a 200-byte record and 30 bytes of it, as a killed writer leaves it.
    const torn = Buffer.alloc(38, 0x41);
    torn.writeUInt32LE(200, 0);
    const fh = await open(file, 'a');
    await fh.write(torn);
    await fh.close();
    const reader = new EventLogReader(dir);
    assert.deepEqual(names(await read(reader, 1)), timers(1, 5));
    assert.deepEqual(names(await read(reader, 6)), [], 'nothing after the torn tail');
    assert.equal(await reader.head(), 5);
    log = await EventLog.open(dir, { logger: quiet });
    for (let i = 6; i <= 9; i++) await log.append(timerEvent(i));
    assert.deepEqual(names(await read(reader, 6)), timers(6, 9));
    assert.equal(await reader.head(), 9);
    assert.deepEqual(names(await read(reader, 1)), timers(1, 9));
    await log.close();
  });

  it('a log directory deleted and made again is read from its start, not from an old offset', async (t) => {
    const dir = await tempDir(t);
    let log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 10; i++) await log.append(timerEvent(i));
    await log.close();
    const reader = new EventLogReader(dir);
    assert.deepEqual(names(await read(reader, 1)), timers(1, 10));
    await rm(dir, { recursive: true, force: true });
    log = await EventLog.open(dir, { logger: quiet });
    for (let i = 101; i <= 115; i++) await log.append(timerEvent(i));
    await log.close();
    assert.deepEqual(names(await read(reader, 11)), timers(111, 115));
    assert.equal(await reader.head(), 15);
  });
});
