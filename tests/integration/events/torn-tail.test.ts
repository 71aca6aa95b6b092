import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLog, EventLogReader, hasCode } from '../../../events/index.ts';
import { timerEvent } from '../../helpers/events.ts';
import { tempDir } from '../../helpers/tmp.ts';

const quiet = { warn: () => undefined };
const SEGMENT = '00000000000000000001.seg';

async function appendBytes(file: string, bytes: Buffer): Promise<void> {
  const fh = await open(file, 'a');
  await fh.write(bytes);
  await fh.close();
}

/** Random bytes whose first word is a record length that cannot be valid, as random garbage usually has. */
function garbage(n: number, seed: number): Buffer {
  const bytes = randomBytes(n);
  bytes.writeUInt32LE(0xf0000000 + seed, 0);
  return bytes;
}

describe('event log: random bytes after the last valid record', () => {
  for (const size of [9, 100, 4096]) {
    it(`${size} random bytes with no valid record after them are a torn tail: truncated with a warning, kept in quarantine`, async (t) => {
      const dir = await tempDir(t);
      const log = await EventLog.open(dir, { logger: quiet });
      for (let i = 1; i <= 5; i++) await log.append(timerEvent(i));
      await log.close();
      const seg = path.join(dir, SEGMENT);
      const valid = (await stat(seg)).size;
      const junk = garbage(size, size);
      await appendBytes(seg, junk);

      assert.deepEqual((await lastValueFrom(new EventLogReader(dir).read$(1).pipe(toArray()))).map((e) => e.position), [1, 2, 3, 4, 5], 'readers stop at the torn tail');
      const warnings: string[] = [];
      const reopened = await EventLog.open(dir, { logger: { warn: (m) => warnings.push(m) } });
      assert.equal(reopened.head, 5);
      assert.equal(warnings.length, 1);
      const kept = path.join(dir, 'quarantine', `00000000000000000001-${valid}.bin`);
      assert.match(warnings[0]!, /torn tail in 00000000000000000001\.seg at byte \d+ .*kept in .*quarantine/);
      assert.ok(warnings[0]!.includes(kept), warnings[0]);
      assert.deepEqual(await readFile(kept), junk, 'the cut bytes are kept as they were');
      assert.equal(((await stat(kept)).mode & 0o777).toString(8), '600');
      assert.equal((await stat(seg)).size, valid);
      assert.equal((await reopened.append(timerEvent(6))).position, 6);
      await reopened.close();
      assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.seg')), [SEGMENT]);
    });
  }

  it('random bytes followed by a valid record stay LOG_CORRUPT: nothing is cut, nothing quarantined', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 5; i++) await log.append(timerEvent(i));
    await log.close();
    const seg = path.join(dir, SEGMENT);
    const bytes = await readFile(seg);
    const first = 8 + bytes.readUInt32LE(0);
    // Garbage between records 1 and 2: records 2..5 after it are valid.
    const damaged = Buffer.concat([bytes.subarray(0, first), garbage(64, 1), bytes.subarray(first)]);
    await writeFile(seg, damaged);
    await assert.rejects(EventLog.open(dir, { logger: quiet }), (err: unknown) => {
      assert.ok(hasCode(err, 'LOG_CORRUPT'), String(err));
      assert.match((err as Error).message, new RegExp(`${SEGMENT.replace('.', '\\.')} at byte offset ${first}\\b`));
      return true;
    });
    await assert.rejects(lastValueFrom(new EventLogReader(dir).read$(1).pipe(toArray())), (err: unknown) => hasCode(err, 'LOG_CORRUPT'));
    assert.deepEqual(await readFile(seg), damaged, 'the segment is untouched');
    await assert.rejects(stat(path.join(dir, 'quarantine')));
  });

  it('a record with a bad checksum followed by valid records stays LOG_CORRUPT', async (t) => {
    const dir = await tempDir(t);
    const log = await EventLog.open(dir, { logger: quiet });
    for (let i = 1; i <= 5; i++) await log.append(timerEvent(i));
    await log.close();
    const seg = path.join(dir, SEGMENT);
    const bytes = await readFile(seg);
    const at = bytes.readUInt32LE(0);
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(seg, bytes);
    await assert.rejects(EventLog.open(dir, { logger: quiet }), (err: unknown) => hasCode(err, 'LOG_CORRUPT'));
  });
});
