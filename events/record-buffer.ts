/** The bytes of a group commit: records framed straight into a reused buffer, and their CRC32. */
import { crc32Range, FRAME_HEADER_BYTES, MAX_RECORD_BYTES } from './codec.ts';

/** Start size of a record buffer; it grows by doubling as a batch needs. */
const INITIAL_BUFFER_BYTES = 64 * 1024;

/** A buffer grown beyond this (a batch of large records) is dropped after use rather than kept for the next batch. */
const KEPT_BUFFER_BYTES = 8 * 1024 * 1024;

/** `Buffer#utf8Write`: undocumented but in every Node version, and about twice as fast as `write(s, offset, 'utf8')`. */
type Utf8Writer = (buf: Buffer, s: string, offset: number) => number;
const nativeUtf8Write = (Buffer.prototype as unknown as { utf8Write?: (this: Buffer, s: string, offset: number) => number }).utf8Write;
const utf8Write: Utf8Writer = nativeUtf8Write
  ? (buf, s, offset) => nativeUtf8Write.call(buf, s, offset)
  : (buf, s, offset) => buf.write(s, offset, 'utf8');

/** What one record holds besides its position, id, time and source: the fields of a `NewEvent`. */
export interface EncodableEvent {
  type: string;
  v: number;
  data: unknown;
  key?: string;
}

/**
 * Framed records (see codec.ts) of one group commit, written straight into a growing buffer: no string per record
 * is kept, and each record's bytes are written once and checksummed from the buffer. Fields are in the log's order
 * (`position` first: readers resuming at an offset check it). Reusable after `reset`.
 */
export class RecordBuffer {
  private buf = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  private off = 0;
  /** `,"id":"<id prefix>`: the rest of an id is the position in 12 hex digits. */
  private readonly idHead: Buffer;
  /** `","at":"<at>","source":<source>` for the last time and source seen. */
  private atSource = Buffer.alloc(0);
  private atSourceAt = '';
  private atSourceFor = '';
  /** `,"type":"<type>","v":<v>,"data":` by type, for the last version seen of each. */
  private readonly typeTails = new Map<string, { v: number; bytes: Buffer }>();

  /** `idPrefix` is the log's random id prefix: an id is it plus the position as 12 hex digits. */
  constructor(idPrefix: string) {
    this.idHead = Buffer.from(`,"id":"${idPrefix}`);
  }

  /** Bytes written since the last `reset`. */
  get bytes(): number {
    return this.off;
  }

  /**
   * Appends the record of `event` (whose type the log checked); false (nothing written) when it is over the record
   * limit. Throws what `JSON.stringify` throws (a cycle, a BigInt) with nothing written.
   */
  add(position: number, at: string, source: string, event: EncodableEvent): boolean {
    if (source !== this.atSourceFor || at !== this.atSourceAt) {
      this.atSourceFor = source;
      this.atSourceAt = at;
      this.atSource = Buffer.from(`","at":"${at}","source":${JSON.stringify(source)}`);
    }
    let typeTail = this.typeTails.get(event.type);
    if (typeTail?.v !== event.v) {
      typeTail = { v: event.v, bytes: Buffer.from(`,"type":"${event.type}","v":${JSON.stringify(event.v)},"data":`) };
      this.typeTails.set(event.type, typeTail);
    }
    const data = JSON.stringify(event.data);
    const key = event.key !== undefined ? `,"key":${JSON.stringify(event.key)}` : '';
    const fixed = POSITION_HEAD.length + 16 + this.idHead.length + 16 + this.atSource.length + typeTail.bytes.length + 1;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only long records need their exact size measured.
    const bound = fixed + (key.length + data.length) * 3;
    if (bound > MAX_RECORD_BYTES && fixed + Buffer.byteLength(key) + Buffer.byteLength(data) > MAX_RECORD_BYTES) return false;
    if (this.off + FRAME_HEADER_BYTES + bound > this.buf.length) this.grow(this.off + FRAME_HEADER_BYTES + bound);
    // Small native copies of cached bytes and digits written in place: no string per record but the data's JSON.
    const buf = this.buf;
    const start = this.off + FRAME_HEADER_BYTES;
    buf.set(POSITION_HEAD, start);
    let end = writeDecimal(buf, start + POSITION_HEAD.length, position);
    buf.set(this.idHead, end);
    end = writeHex12(buf, end + this.idHead.length, position);
    buf.set(this.atSource, end);
    end += this.atSource.length;
    if (key) end += utf8Write(buf, key, end);
    buf.set(typeTail.bytes, end);
    end += typeTail.bytes.length;
    end += utf8Write(buf, data, end);
    buf[end++] = 0x7d; // }
    buf.writeUInt32LE(end - start, this.off);
    buf.writeUInt32LE(crc32Range(buf, start, end), this.off + 4);
    this.off = end;
    return true;
  }

  /** The framed records: a view valid until the next `add` or `reset`. */
  view(): Buffer {
    return this.buf.subarray(0, this.off);
  }

  /** Empties the buffer for the next batch; one grown for large records shrinks back. */
  reset(): void {
    this.off = 0;
    if (this.buf.length > KEPT_BUFFER_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BUFFER_BYTES);
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.off);
    this.buf = bigger;
  }
}

const POSITION_HEAD = Buffer.from('{"position":');
const HEX_DIGITS = Buffer.from('0123456789abcdef');

/** Writes a non-negative integer in decimal at `off`; returns the offset after it. */
function writeDecimal(buf: Buffer, off: number, n: number): number {
  if (n >= 0x80000000) return off + buf.write(String(n), off, 'latin1');
  let len = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) len++;
  const end = off + len;
  let at = end;
  let x = n;
  do {
    const q = (x / 10) | 0;
    buf[--at] = 48 + x - q * 10;
    x = q;
  } while (x > 0);
  return end;
}

/** Writes a position as at least 12 hex digits (zero-padded) at `off`; returns the offset after them. */
function writeHex12(buf: Buffer, off: number, n: number): number {
  if (n >= 0x100000000) return off + buf.write(n.toString(16).padStart(12, '0'), off, 'latin1');
  let x = n;
  for (let at = off + 11; at >= off; at--) {
    buf[at] = HEX_DIGITS[x & 15]!;
    x >>>= 4;
  }
  return off + 12;
}

const TYPE_MARK = Buffer.from(',"type":"');
const QUOTE = 0x22;

/**
 * The event type of the record payload `buf[start, end)`, read without parsing it: the writer puts `position`, `id`,
 * `at`, `source` and `key` (numbers and JSON strings, whose quotes inside are escaped) before `type`, so the first
 * `,"type":"` is the type's. Undefined for a payload not laid out so (the caller parses it to know).
 */
export function recordType(buf: Buffer, start: number, end: number): string | undefined {
  if (end - start <= POSITION_HEAD.length || buf.compare(POSITION_HEAD, 0, POSITION_HEAD.length, start, start + POSITION_HEAD.length) !== 0) return undefined;
  const mark = buf.indexOf(TYPE_MARK, start + POSITION_HEAD.length);
  if (mark < 0 || mark >= end) return undefined;
  const from = mark + TYPE_MARK.length;
  const close = buf.indexOf(QUOTE, from);
  return close < 0 || close >= end ? undefined : buf.toString('latin1', from, close);
}
