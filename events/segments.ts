/** Segment files of the log: naming, listing, and streaming scans that never load a whole segment. */
import { open, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32Range, decodeFrame, FRAME_HEADER_BYTES, MAX_RECORD_BYTES } from './codec.ts';
import { adaError, ErrorCode } from './errors.ts';

/** Suffix of segment files; the name is the position of the segment's first record, zero-padded. */
export const SEGMENT_SUFFIX = '.seg';

/** Read size of scans: large enough to amortise syscalls, small enough to keep memory flat. */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/** A segment file and the position of its first record. */
export interface SegmentInfo {
  name: string;
  path: string;
  first: number;
}

/** File name of the segment whose first record has position `first`. */
export function segmentName(first: number): string {
  return `${String(first).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** Segments of a log directory, oldest first. */
export async function listSegments(dir: string): Promise<SegmentInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => /^\d{20}\.seg$/.test(n))
    .map((name) => ({ name, path: path.join(dir, name), first: Number(name.slice(0, 20)) }))
    .sort((a, b) => a.first - b.first);
}

/** One framed record found by a scan. */
export interface RawRecord {
  position: number;
  offset: number;
  payload: Buffer;
}

/** How a scan of one segment ended. */
export interface SegmentScanEnd {
  /** Offset after the last valid record. */
  end: number;
  /** Position the next record would have. */
  nextPosition: number;
  /** File size when the scan finished. */
  size: number;
  /** Set when bytes after `end` are not a valid record. */
  problem?: { offset: number; reason: string; torn: boolean };
  /** True when the consumer stopped the scan early. */
  stopped: boolean;
}

/**
 * Streams the records of one segment from `offset` (whose record has position `position`)
 * to the end of the file, calling `onBatch` once per read chunk. `onBatch` returns false to stop.
 * Invalid bytes end the scan and are described in `problem`; `torn` tells whether they look like
 * an unfinished write at the tail (incomplete frame, zeros, a bad last frame, or any bytes with no valid
 * record after them) rather than damage followed by records that would be lost.
 */
export async function scanSegment(
  file: string,
  start: { offset: number; position: number },
  onBatch: (records: RawRecord[]) => boolean | void,
  limits: { untilPosition?: number } = {},
): Promise<SegmentScanEnd> {
  let records: RawRecord[] = [];
  return scanRecords(file, start, (buf, from, to, position, offset) => {
    records.push({ position, offset, payload: buf.subarray(from, to) });
  }, limits, () => {
    if (records.length === 0) return true;
    const batch = records;
    records = [];
    return onBatch(batch);
  });
}

/**
 * Called for each valid record of a scan with its payload's bytes, `buf[start, end)` (valid during the call only),
 * its position and the offset of its frame in the file. Returns false to stop the scan after this record.
 */
export type RecordVisitor = (buf: Buffer, start: number, end: number, position: number, offset: number) => boolean | void;

/**
 * `scanSegment` one record at a time, with no object per record: the replay path parses payloads straight
 * from the read buffer. `onChunkEnd`, if given, runs after the records of each read chunk, before the buffer
 * is reused; it returns false to stop.
 */
export async function scanRecords(
  file: string,
  start: { offset: number; position: number },
  onRecord: RecordVisitor,
  limits: { untilPosition?: number } = {},
  onChunkEnd?: () => boolean | void,
): Promise<SegmentScanEnd> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    // One reused read buffer: payloads handed to onRecord are views into it, valid during the call only.
    let buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, Math.max(FRAME_HEADER_BYTES, size - start.offset)));
    let len = 0;
    let bufStart = start.offset;
    let fileOffset = start.offset;
    let position = start.position;
    const until = limits.untilPosition ?? Number.POSITIVE_INFINITY;
    while (true) {
      if (position > until) return { end: bufStart, nextPosition: position, size, stopped: false };
      if (fileOffset < size && len < buf.length) {
        const { bytesRead } = await fh.read(buf, len, Math.min(buf.length - len, size - fileOffset), fileOffset);
        fileOffset += bytesRead;
        len += bytesRead;
      }
      let at = 0;
      let bad: { reason: string; frameEnd: number } | undefined;
      let stopped = false;
      // Frames decoded in place (the loop of decodeFrame, without a result object or a view per record).
      while (position <= until && len - at >= FRAME_HEADER_BYTES) {
        const length = buf.readUInt32LE(at);
        if (length === 0 || length > MAX_RECORD_BYTES) {
          bad = { reason: `record length ${length} out of bounds`, frameEnd: at + FRAME_HEADER_BYTES };
          break;
        }
        const end = at + FRAME_HEADER_BYTES + length;
        if (end > len) break;
        if (crc32Range(buf, at + FRAME_HEADER_BYTES, end) !== buf.readUInt32LE(at + 4)) {
          bad = { reason: 'checksum mismatch', frameEnd: end };
          break;
        }
        const visited = onRecord(buf, at + FRAME_HEADER_BYTES, end, position, bufStart + at);
        position += 1;
        at = end;
        if (visited === false) {
          stopped = true;
          break;
        }
      }
      if (onChunkEnd?.() === false || stopped) {
        return { end: bufStart + at, nextPosition: position, size, stopped: true };
      }
      if (bad) {
        const torn = bufStart + bad.frameEnd >= size || (fileOffset >= size && isZeros(buf.subarray(at, len)))
          || !(await hasValidFrameAfter(fh, bufStart + at + 1, size));
        return { end: bufStart + at, nextPosition: position, size, problem: { offset: bufStart + at, reason: bad.reason, torn }, stopped: false };
      }
      buf.copyWithin(0, at, len);
      len -= at;
      bufStart += at;
      if (fileOffset >= size) {
        if (len === 0 || position > until) return { end: bufStart, nextPosition: position, size, stopped: false };
        return {
          end: bufStart, nextPosition: position, size, stopped: false,
          problem: { offset: bufStart, reason: `incomplete record (${len} bytes at the end of the file)`, torn: true },
        };
      }
      if (len >= FRAME_HEADER_BYTES) {
        const need = FRAME_HEADER_BYTES + buf.readUInt32LE(0);
        if (need > FRAME_HEADER_BYTES + MAX_RECORD_BYTES) {
          const torn = !(await hasValidFrameAfter(fh, bufStart + 1, size));
          return { end: bufStart, nextPosition: position, size, stopped: false, problem: { offset: bufStart, reason: 'record length out of bounds', torn } };
        }
        if (need > buf.length) {
          // A record larger than the read buffer: grow it (bounded by MAX_RECORD_BYTES).
          const bigger = Buffer.allocUnsafe(need);
          buf.copy(bigger, 0, 0, len);
          buf = bigger;
        }
      }
    }
  } finally {
    await fh.close();
  }
}

/**
 * True when some offset in [from, size) starts a whole frame with a matching checksum: the damage before it is
 * then not a torn tail, since cutting there would drop that record. Only runs on the error path; random bytes
 * rarely hold a length that fits, so most offsets are rejected by the length alone.
 */
async function hasValidFrameAfter(fh: FileHandle, from: number, size: number): Promise<boolean> {
  if (size - from < FRAME_HEADER_BYTES) return false;
  const rest = Buffer.allocUnsafe(size - from);
  const { bytesRead } = await fh.read(rest, 0, rest.length, from);
  const view = rest.subarray(0, bytesRead);
  for (let at = 0; at + FRAME_HEADER_BYTES <= view.length; at++) {
    if (decodeFrame(view, at).kind === 'ok') return true;
  }
  return false;
}

function isZeros(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Throws LOG_CORRUPT unless a segment that is not the last ended cleanly exactly where the next one starts. */
export function assertSegmentsJoin(segment: string, end: SegmentScanEnd, nextFirst: number): void {
  if (end.problem || end.nextPosition !== nextFirst) {
    throw corruptError(segment, end.problem?.offset ?? end.end, end.nextPosition, end.problem?.reason ?? `segment ends at position ${end.nextPosition - 1} but the next starts at ${nextFirst}`);
  }
}

/** The error for damaged bytes that are not a torn tail. */
export function corruptError(segment: string, offset: number, position: number, reason: string): Error {
  return adaError(
    ErrorCode.logCorrupt,
    `event log is corrupt: segment ${segment} at byte offset ${offset} (record position ${position}): ${reason}. ` +
      'Restore the segment from a backup; `ada events verify` lists every damaged record.',
    { segment, offset, position, reason },
  );
}
