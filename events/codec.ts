/**
 * Record framing for log segments: `[u32 LE payload length][u32 LE CRC32 of payload][JSON payload]`.
 * CRC32 (zlib's polynomial, computed here: loading node:zlib for it cost every command's start-up) guards each record;
 * the length lets readers skip.
 */

/** Bytes of the frame header: length + checksum. */
export const FRAME_HEADER_BYTES = 8;

/** Upper bound of one record: events carry claim checks, not rows, so anything larger is a bug or corruption. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Lookup tables of CRC32 by slicing by 8: as fast as `zlib.crc32` on records, without a `subarray` view for each. */
const CRC_TABLE = ((): Int32Array => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC32 of `buf[start, end)`, the value `zlib.crc32` gives for the same bytes. */
export function crc32Range(buf: Uint8Array, start: number, end: number): number {
  const t = CRC_TABLE;
  let c = -1;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ c;
    c = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]!
      ^ t[768 + buf[i + 4]!]! ^ t[512 + buf[i + 5]!]! ^ t[256 + buf[i + 6]!]! ^ t[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Frames a serialised payload. */
export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32Range(payload, 0, payload.length), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** The outcome of decoding the frame at an offset of a buffer. */
export type FrameResult =
  | { kind: 'ok'; payload: Buffer; next: number }
  /** Not enough bytes for the whole frame (the tail of a file or of a read chunk). */
  | { kind: 'incomplete' }
  /** A length out of bounds or a checksum mismatch. */
  | { kind: 'bad'; reason: string; frameEnd: number };

/** Decodes the frame starting at `offset` of `buf` without copying the payload. */
export function decodeFrame(buf: Buffer, offset: number): FrameResult {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'incomplete' };
  const length = buf.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD_BYTES) {
    return { kind: 'bad', reason: `record length ${length} out of bounds`, frameEnd: offset + FRAME_HEADER_BYTES };
  }
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return { kind: 'incomplete' };
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end);
  const expected = buf.readUInt32LE(offset + 4);
  if (crc32Range(payload, 0, payload.length) !== expected) return { kind: 'bad', reason: 'checksum mismatch', frameEnd: end };
  return { kind: 'ok', payload, next: end };
}

/** Length of a frame whose header starts at `offset`, or undefined when the header is incomplete. */
export function frameLength(buf: Buffer, offset: number): number | undefined {
  if (buf.length - offset < FRAME_HEADER_BYTES) return undefined;
  return FRAME_HEADER_BYTES + buf.readUInt32LE(offset);
}
