/**
 * Record framing for log segments: `[u32 LE payload length][u32 LE CRC32 of payload][JSON payload]`.
 * CRC32 (zlib's polynomial, native in Node's zlib) guards each record; the length lets readers skip.
 */
import { crc32 } from 'node:zlib';

/** Bytes of the frame header: length + checksum. */
export const FRAME_HEADER_BYTES = 8;

/** Upper bound of one record: events carry claim checks, not rows, so anything larger is a bug or corruption. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Frames a serialised payload. */
export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
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
  if (crc32(payload) !== expected) return { kind: 'bad', reason: 'checksum mismatch', frameEnd: end };
  return { kind: 'ok', payload, next: end };
}

/** Length of a frame whose header starts at `offset`, or undefined when the header is incomplete. */
export function frameLength(buf: Buffer, offset: number): number | undefined {
  if (buf.length - offset < FRAME_HEADER_BYTES) return undefined;
  return FRAME_HEADER_BYTES + buf.readUInt32LE(offset);
}
