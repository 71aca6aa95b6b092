import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { crc32Range, decodeFrame } from '../../../events/codec.ts';
import { RecordBuffer, recordType } from '../../../events/record-buffer.ts';

const PREFIX = '0123456789abcdef01234567';
const AT = '2026-11-26T06:00:00.123Z';

/** The record as the log has always written it: its fields in this order, serialised by JSON.stringify. */
function expected(position: number, source: string, e: { type: string; v: number; data: unknown; key?: string }): string {
  const id = `${PREFIX}${position.toString(16).padStart(12, '0')}`;
  return JSON.stringify({ position, id, at: AT, source, ...(e.key !== undefined ? { key: e.key } : {}), type: e.type, v: e.v, data: e.data });
}

describe('RecordBuffer', () => {
  it('frames records byte for byte as JSON.stringify of the stored fields, with zlib CRC32', () => {
    const cases: Array<[number, string, { type: string; v: number; data: unknown; key?: string }]> = [
      [1, 'bench', { type: 'TimerFired', v: 1, data: { timer: 't', tables: ['a'], catchUp: false } }],
      [9, 'bench', { type: 'TimerFired', v: 1, data: {} }],
      [10, 'serve:distribution', { type: 'SyncStarted', v: 1, key: 'run-1:started', data: { runId: 'run-1' } }],
      [4_294_967_295, 'ada', { type: 'SyncFailed', v: 2, data: { error: { message: 'Ünïcödé ✓ 😀 "quoted" \\ \n' } } }],
      [2 ** 31, 'quelle "ä"', { type: 'SyncFailed', v: 12, key: 'clé ✓', data: [1, 'x', null] }],
      [2 ** 40 + 7, 'ada', { type: 'TimerFired', v: 1, data: 'a string' }],
      [Number.MAX_SAFE_INTEGER, 'ada', { type: 'TimerFired', v: 1, data: 0 }],
    ];
    const records = new RecordBuffer(PREFIX);
    for (const [position, source, e] of cases) assert.equal(records.add(position, AT, source, e), true);
    const buf = records.view();
    let at = 0;
    for (const [position, source, e] of cases) {
      const frame = decodeFrame(buf, at);
      assert.equal(frame.kind, 'ok');
      if (frame.kind !== 'ok') return;
      assert.equal(frame.payload.toString('utf8'), expected(position, source, e));
      assert.equal(buf.readUInt32LE(at + 4), crc32(frame.payload));
      at = frame.next;
    }
    assert.equal(at, buf.length);
  });

  it('grows past its first buffer, rejects an oversized record alone, and starts over after reset', () => {
    const records = new RecordBuffer(PREFIX);
    const big = 'x'.repeat(200_000);
    for (let i = 1; i <= 5; i++) assert.equal(records.add(i, AT, 'ada', { type: 'TimerFired', v: 1, data: big }), true);
    const before = records.bytes;
    assert.equal(records.add(6, AT, 'ada', { type: 'TimerFired', v: 1, data: 'y'.repeat(17 * 1024 * 1024) }), false);
    assert.equal(records.bytes, before);
    assert.throws(() => records.add(6, AT, 'ada', { type: 'TimerFired', v: 1, data: { n: 1n } }), TypeError);
    assert.equal(records.bytes, before);
    let at = 0;
    for (let i = 1; i <= 5; i++) {
      const frame = decodeFrame(records.view(), at);
      assert.equal(frame.kind, 'ok');
      if (frame.kind === 'ok') at = frame.next;
    }
    records.reset();
    assert.equal(records.bytes, 0);
    records.add(7, AT, 'ada', { type: 'TimerFired', v: 1, data: {} });
    assert.equal(records.view().toString('utf8', 8), expected(7, 'ada', { type: 'TimerFired', v: 1, data: {} }));
  });

  it('computes the CRC32 zlib computes, for every length and offset', () => {
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= bytes.length; end += 1 + (end % 13)) {
        assert.equal(crc32Range(bytes, start, end), crc32(bytes.subarray(start, end)), `[${start}, ${end})`);
      }
    }
  });

  it('reads the type of a framed record without parsing it, whatever its key, source or data hold', () => {
    const records = new RecordBuffer(PREFIX);
    records.add(1, AT, 'src ,"type":"Fake"', { type: 'TimerFired', v: 1, key: 'k ,"type":"Fake" \\"', data: { type: 'Other', x: ',"type":"Fake"' } });
    records.add(2, AT, 'ada', { type: 'SyncStarted', v: 1, data: {} });
    const buf = records.view();
    const types: Array<string | undefined> = [];
    for (let at = 0; at < buf.length;) {
      const end = at + 8 + buf.readUInt32LE(at);
      types.push(recordType(buf, at + 8, end));
      at = end;
    }
    assert.deepEqual(types, ['TimerFired', 'SyncStarted']);
    // Another layout: the caller must parse to know.
    const other = Buffer.from(JSON.stringify({ type: 'TimerFired', position: 1 }));
    assert.equal(recordType(other, 0, other.length), undefined);
    const noType = Buffer.from('{"position":1,"id":"x"}');
    assert.equal(recordType(noType, 0, noType.length), undefined);
  });
});
