/**
 * The append-only event log: segmented files of framed records, one writer at a time,
 * group-committed appends, idempotency keys, torn-tail recovery, and RxJS readers.
 *
 * fsync policy: an append resolves only after the batch holding it was written durably (the active
 * segment is open with O_DSYNC: a write returns as an `fdatasync` after it would); a new segment file
 * is followed by an fsync of the directory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { constants as fsConstants, watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { Observable, Subject } from 'rxjs';
import writeFileAtomic from 'write-file-atomic';
import { fsyncDir, isProcessAlive } from './fs-sync.ts';
import { FRAME_HEADER_BYTES, MAX_RECORD_BYTES } from './codec.ts';
import { adaError, ErrorCode } from './errors.ts';
import { ReadCursors } from './read-cursors.ts';
import { LiveBatch } from './live-batch.ts';
import { RecordBuffer, recordType } from './record-buffer.ts';
import type { ReadCursor } from './read-cursors.ts';
import { assertSegmentsJoin, corruptError, listSegments, scanRecords, scanSegment, segmentName } from './segments.ts';
import type { RawRecord, RecordVisitor, SegmentInfo } from './segments.ts';
import { EVENT_TYPES } from './types.ts';
import type { NewEvent, RecordedEvent } from './types.ts';
import { upcast, UPCASTERS } from './upcast.ts';
import type { StoredEvent, UpcasterRegistry } from './upcast.ts';

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** Default segment size before rolling to a new file. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/**
 * Flags of the active segment: appends, and O_DSYNC, so a write returns once its bytes and the file's new size are
 * on disk (what `fdatasync` after it did), in one trip through libuv's pool and one turn of the event loop, not two.
 */
const ACTIVE_SEGMENT_FLAGS = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_DSYNC;

/** Opens a segment for appends (durable writes, see ACTIVE_SEGMENT_FLAGS). */
function openActive(file: string): Promise<FileHandle> {
  return open(file, ACTIVE_SEGMENT_FLAGS, 0o600);
}

/** Group commits whose durations `commitTimes` keeps. */
const COMMIT_TIMES = 4096;

/** Records per group commit at most: appends beyond it start the next batch, so one write stays bounded. */
const MAX_BATCH_RECORDS = 4_000;

/** Idle record buffers a log keeps for its next batches (one is written while the next fills). */
const SPARE_BUFFERS = 2;

/** How often followers in another process look for new records when no file event arrives. */
const FOLLOW_POLL_MS = 100;

/** proper-lockfile: refresh the lock every 2 s, consider it stale after 10 s without refresh. */
const LOCK_UPDATE_MS = 2_000;
const LOCK_STALE_MS = 10_000;

const LOCK_NAME = 'writer.lock';
const OWNER_NAME = 'writer.owner.json';

/** Where log messages go; defaults to stderr. */
export interface LogLogger {
  warn(message: string): void;
}

const stderrLogger: LogLogger = { warn: (m) => process.stderr.write(`warning: ${m}\n`) };

/** Options of `EventLog.open`. */
export interface EventLogOptions {
  segmentBytes?: number;
  logger?: LogLogger;
  upcasters?: UpcasterRegistry;
  /** Recorded as the `source` of events appended without one. */
  defaultSource?: string;
}

/** The result of an append: where the event is, and whether an earlier append with its key already held it. */
export interface AppendResult {
  position: number;
  id: string;
  duplicate: boolean;
}

/**
 * A group commit: the framed records of appends, encoded as they are made, and their promises' resolving
 * functions. The events themselves are not kept.
 */
interface Batch {
  first: number;
  records: RecordBuffer;
  resolves: Array<(r: AppendResult) => void>;
  rejects: Array<(err: unknown) => void>;
  /** Idempotency keys in the batch, by record index. */
  keyed: Array<[number, string]>;
}

/** Options of a read of the log. */
export interface ReadOptions {
  /**
   * Only events of these types are parsed and emitted; the others are skipped unparsed (a projection's catch-up
   * need not parse the bodies of events it does not handle).
   */
  types?: Iterable<string>;
  /** Called when a `read$` ends, with the position of the last record it read (emitted or skipped). */
  reached?: (position: number) => void;
}

/** The set of wanted types, or undefined for all. */
function wantedTypes(options: ReadOptions): ReadonlySet<string> | undefined {
  return options.types === undefined ? undefined : new Set(options.types);
}

/** Whether the record payload `buf[start, end)` may be of a wanted type (true when its type cannot be read unparsed). */
function mayWant(wanted: ReadonlySet<string> | undefined, buf: Buffer, start: number, end: number): boolean {
  if (!wanted) return true;
  const type = recordType(buf, start, end);
  return type === undefined || wanted.has(type);
}

/** The record `buf[start, end)` as an event if it is of a wanted type (any, without `wanted`); others mostly unparsed. */
function wantedEvent(wanted: ReadonlySet<string> | undefined, buf: Buffer, start: number, end: number, upcasters: UpcasterRegistry): RecordedEvent | undefined {
  if (!mayWant(wanted, buf, start, end)) return undefined;
  const event = parseRecord(buf, start, end, upcasters);
  return !wanted || wanted.has(event.type) ? event : undefined;
}

/** The resolving functions of the promise being created: an executor shared by every append allocates no closure. */
let newResolve: (r: AppendResult) => void = () => undefined;
let newReject: (err: unknown) => void = () => undefined;
function captureResolvers(resolve: (r: AppendResult) => void, reject: (err: unknown) => void): void {
  newResolve = resolve;
  newReject = reject;
}

/**
 * The idempotency keys of one segment, beside it as `<segment>.keys.json`. A sealed segment's index covers it whole
 * (`last` is the position before the next segment's first). The active segment's is a checkpoint written when the log
 * closes: it covers the segment's first `offset` bytes, whose last `TAIL_CHECK_BYTES` hash to `tail`, so an open scans
 * only what was appended after it (a 30 MB active segment costs a CLI about 0.4 s of CPU to scan).
 */
interface KeyIndexFile {
  first: number;
  last: number;
  keys: Record<string, number>;
  offset?: number;
  tail?: string;
}

/** Active segments smaller than this are scanned whole on open; a checkpoint would save less than it costs to write. */
const KEY_CHECKPOINT_MIN_BYTES = 1024 * 1024;
/** Bytes before a checkpoint's offset whose hash must still match for it to be used. */
const TAIL_CHECK_BYTES = 4096;

type Lifecycle = 'open' | 'closing' | 'closed' | 'failed';

/** The event in a record's payload, `buf[start, end)`, upcast to the current version of its type. */
function parseRecord(buf: Buffer, start: number, end: number, upcasters: UpcasterRegistry): RecordedEvent {
  const stored = JSON.parse(buf.toString('utf8', start, end)) as StoredEvent & Omit<RecordedEvent, 'type' | 'v' | 'data'>;
  return (stored.type && upcasters[stored.type] ? { ...stored, ...upcast(stored, upcasters) } : stored) as RecordedEvent;
}

/** The segment holding `position`: the last one whose first record is at or before it. */
function segmentIndexFor(segments: SegmentInfo[], position: number): number {
  let idx = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.first <= position) idx = i;
  return idx;
}

/**
 * Reads records from `cursor` to the current end of the log (or to `until`), across segments,
 * calling `onRecord` per record (which returns false to stop). Returns the cursor after the last record read.
 * A torn tail of the last segment is the end of what is written; damage anywhere else is `LOG_CORRUPT`.
 */
async function readForward(
  dir: string,
  cursor: ReadCursor | { from: number },
  onRecord: RecordVisitor,
  until?: number,
  cursors?: ReadCursors,
): Promise<{ cursor: ReadCursor; stopped: boolean }> {
  const segments = await listSegments(dir);
  if (segments.length === 0) {
    const position = 'from' in cursor ? 1 : cursor.position;
    return { cursor: { segmentFirst: 1, offset: 0, position }, stopped: false };
  }
  let current: ReadCursor;
  let skipBelow = 0;
  if ('from' in cursor) {
    const seg = segments[segmentIndexFor(segments, Math.max(1, cursor.from))]!;
    current = (await resumable(segments, cursors?.nearest(cursor.from, seg.first), cursors)) ?? { segmentFirst: seg.first, offset: 0, position: seg.first };
    skipBelow = cursor.from;
  } else {
    current = cursor;
  }
  const result = await readSegments(dir, segments, current, skipBelow, onRecord, until);
  if (cursors) {
    const ino = await inode(path.join(dir, segmentName(result.cursor.segmentFirst)));
    if (ino !== undefined) cursors.remember({ ...result.cursor, ino });
  }
  return result;
}

async function inode(file: string): Promise<number | undefined> {
  return (await stat(file).catch(() => undefined))?.ino;
}

/**
 * `cursor` when it still points at a record boundary of the same file: same inode, and the record there (if any)
 * is the one at its position. Otherwise every cursor is forgotten and the caller scans from byte 0.
 */
async function resumable(segments: SegmentInfo[], cursor: ReadCursor | undefined, cursors: ReadCursors | undefined): Promise<ReadCursor | undefined> {
  if (!cursor) return undefined;
  const seg = segments.find((s) => s.first === cursor.segmentFirst);
  if (seg && await startsRecord(seg.path, cursor)) return { segmentFirst: cursor.segmentFirst, offset: cursor.offset, position: cursor.position };
  cursors?.clear();
  return undefined;
}

async function startsRecord(file: string, cursor: ReadCursor): Promise<boolean> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, 'r');
    const st = await fh.stat();
    if (st.ino !== cursor.ino || st.size < cursor.offset) return false;
    if (st.size === cursor.offset) return true;
    // The writer puts `position` first in every record it frames.
    const expected = `{"position":${cursor.position},`;
    const head = Buffer.alloc(FRAME_HEADER_BYTES + expected.length);
    const { bytesRead } = await fh.read(head, 0, head.length, cursor.offset);
    return bytesRead === head.length && head.toString('utf8', FRAME_HEADER_BYTES) === expected;
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

async function readSegments(
  dir: string,
  listed: SegmentInfo[],
  start: ReadCursor,
  skipBelow: number,
  onRecord: RecordVisitor,
  until: number | undefined,
): Promise<{ cursor: ReadCursor; stopped: boolean }> {
  let segments = listed;
  let current = start;
  while (true) {
    const idx = segments.findIndex((s) => s.first === current.segmentFirst);
    if (idx < 0) throw adaError(ErrorCode.logCorrupt, `event log segment ${segmentName(current.segmentFirst)} disappeared while reading ${dir}`);
    const seg = segments[idx]!;
    const isLast = idx === segments.length - 1;
    const end = await scanRecords(seg.path, current, skipBelow > current.position
      ? (buf, start, stop, position, offset) => (position < skipBelow ? true : onRecord(buf, start, stop, position, offset))
      : onRecord, { untilPosition: until });
    current = { segmentFirst: seg.first, offset: end.end, position: end.nextPosition };
    if (end.stopped) return { cursor: current, stopped: true };
    if (until !== undefined && current.position > until) return { cursor: current, stopped: false };
    if (!isLast) {
      const next = segments[idx + 1]!;
      assertSegmentsJoin(seg.name, end, next.first);
      current = { segmentFirst: next.first, offset: 0, position: next.first };
      continue;
    }
    if (end.problem && !end.problem.torn) throw corruptError(seg.name, end.problem.offset, end.nextPosition, end.problem.reason);
    // The writer may have rolled to a new segment while we read the old one.
    const again = await listSegments(dir);
    if (again.length > segments.length && end.nextPosition === again[idx + 1]?.first) {
      segments = again;
      current = { segmentFirst: again[idx + 1]!.first, offset: 0, position: again[idx + 1]!.first };
      continue;
    }
    return { cursor: current, stopped: false };
  }
}

/** Reads the log in `dir` without taking the writer lock: `read$` and a polling `follow$`. */
export class EventLogReader {
  readonly dir: string;
  private readonly upcasters: UpcasterRegistry;
  private readonly cursors = new ReadCursors();
  private readonly durableHead: () => number | undefined;

  /**
   * `durableHead`: the last position the writer made durable, when the writer is in this process (another thread)
   * and says so. Reads then stop there: a record the writer has written but not yet made durable is readable from
   * the file, and a crash may still lose it (and give its position to another event).
   */
  constructor(dir: string, options: { upcasters?: UpcasterRegistry; durableHead?: () => number } = {}) {
    this.dir = dir;
    this.upcasters = options.upcasters ?? UPCASTERS;
    this.durableHead = options.durableHead ?? (() => undefined);
  }

  /** Every record from `from` to the current end (or the durable head, when known), then completes. */
  read$(from = 1, options: ReadOptions = {}): Observable<RecordedEvent> {
    return readObservable(this.dir, from, this.upcasters, this.durableHead, this.cursors, options);
  }

  /** Position of the last complete record (0 for an empty log); scans only the last segment, from where it last looked. */
  async head(): Promise<number> {
    const segments = await listSegments(this.dir);
    const last = segments.at(-1);
    if (!last) return 0;
    const start = (await resumable(segments, this.cursors.nearest(Number.MAX_SAFE_INTEGER, last.first), this.cursors)) ?? { segmentFirst: last.first, offset: 0, position: last.first };
    const end = await scanSegment(last.path, start, () => true);
    const ino = await inode(last.path);
    if (ino !== undefined) this.cursors.remember({ segmentFirst: last.first, offset: end.end, position: end.nextPosition, ino });
    return end.nextPosition - 1;
  }

  /**
   * The process holding the writer lock, or undefined when none does. An owner on this host whose
   * process is gone (killed) counts as none: the next writer breaks its lock.
   */
  async writer(): Promise<LogWriterOwner | undefined> {
    let owner: LogWriterOwner;
    try {
      owner = JSON.parse(await readFile(path.join(this.dir, OWNER_NAME), 'utf8')) as LogWriterOwner;
    } catch {
      return undefined;
    }
    if (owner.hostname === os.hostname() && !isProcessAlive(owner.pid)) return undefined;
    return owner;
  }

  /** Raw records with their segment and offset, for verification and statistics. */
  async scan(onRecord: (segment: SegmentInfo, record: RawRecord) => void): Promise<{ head: number; segments: SegmentInfo[]; problem?: { segment: string; offset: number; position: number; reason: string; torn: boolean } }> {
    const segments = await listSegments(this.dir);
    let expected = segments[0]?.first ?? 1;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg.first !== expected) {
        return { head: expected - 1, segments, problem: { segment: seg.name, offset: 0, position: expected, reason: `segment starts at position ${seg.first}, expected ${expected}`, torn: false } };
      }
      const end = await scanSegment(seg.path, { offset: 0, position: seg.first }, (records) => {
        for (const r of records) onRecord(seg, r);
      });
      expected = end.nextPosition;
      if (end.problem) {
        const torn = end.problem.torn && i === segments.length - 1;
        return { head: expected - 1, segments, problem: { segment: seg.name, offset: end.problem.offset, position: expected, reason: end.problem.reason, torn } };
      }
    }
    return { head: expected - 1, segments };
  }

  /** Catch-up from `from`, then new records as other processes append them. */
  follow$(from = 1, options: ReadOptions = {}): Observable<RecordedEvent> {
    const { dir, upcasters, cursors } = this;
    const wanted = wantedTypes(options);
    return new Observable<RecordedEvent>((subscriber) => {
      let cursor: ReadCursor | { from: number } = { from };
      let running = false;
      let again = false;
      let closed = false;
      const poll = async (): Promise<void> => {
        if (running) { again = true; return; }
        running = true;
        try {
          do {
            again = false;
            const result = await readForward(dir, cursor, (buf, start, end) => {
              if (subscriber.closed) return false;
              const event = wantedEvent(wanted, buf, start, end, upcasters);
              if (event) subscriber.next(event);
              return true;
            }, undefined, 'from' in cursor ? cursors : undefined);
            cursor = result.cursor;
          } while (again && !closed);
        } catch (err) {
          subscriber.error(err);
        } finally {
          running = false;
        }
      };
      void poll();
      const timer = setInterval(() => void poll(), FOLLOW_POLL_MS);
      let watcher: ReturnType<typeof watch> | undefined;
      try {
        watcher = watch(dir, () => void poll());
        watcher.on('error', () => undefined);
      } catch {
        // Polling alone still follows the log.
      }
      return () => {
        closed = true;
        clearInterval(timer);
        watcher?.close();
      };
    });
  }
}

function readObservable(dir: string, from: number, upcasters: UpcasterRegistry, until: () => number | undefined, cursors: ReadCursors, options: ReadOptions): Observable<RecordedEvent> {
  const wanted = wantedTypes(options);
  return new Observable<RecordedEvent>((subscriber) => {
    readForward(dir, { from }, (buf, start, end) => {
      if (subscriber.closed) return false;
      const event = wantedEvent(wanted, buf, start, end, upcasters);
      if (event) subscriber.next(event);
      return !subscriber.closed;
    }, until(), cursors)
      .then((result) => {
        options.reached?.(result.cursor.position - 1);
        subscriber.complete();
      }, (err: unknown) => subscriber.error(err));
  });
}

/** The single writer of a log directory. Create with `EventLog.open`. */
export class EventLog {
  readonly dir: string;
  private readonly segmentBytes: number;
  private readonly logger: LogLogger;
  private readonly upcasters: UpcasterRegistry;
  private readonly defaultSource: string;
  private readonly keys = new Map<string, number>();
  private readonly pendingKeys = new Map<string, Promise<AppendResult>>();
  private readonly live = new Subject<LiveBatch>();
  /** Durable batches not yet handed to followers: they get them after the appends' callers (webhook answers) ran. */
  private liveQueue: LiveBatch[] = [];
  private liveScheduled = false;
  private readonly cursors = new ReadCursors();
  private activeIno: number | undefined;
  /** The batch appends go to; the batches before it wait in `sealed`, each written and synced in turn. */
  private filling: Batch | undefined;
  private sealed: Batch[] = [];
  private readonly spare: RecordBuffer[] = [];
  /** The record time, an ISO string made once per millisecond. */
  private atMs = -1;
  private atIso = '';
  private flushing: Promise<void> | undefined;
  private state: Lifecycle = 'open';
  private failure: unknown;
  private fh!: FileHandle;
  private activeFirst = 1;
  private activeSize = 0;
  private nextPosition = 1;
  private releaseLock!: () => Promise<void>;
  /** Event ids are this random prefix (unique per log) plus the position: unique, cheaper than a UUID per event. */
  private readonly idPrefix = randomUUID().slice(0, 24);

  private constructor(dir: string, options: EventLogOptions) {
    this.dir = dir;
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.logger = options.logger ?? stderrLogger;
    this.upcasters = options.upcasters ?? UPCASTERS;
    this.defaultSource = options.defaultSource ?? 'ada';
  }

  /** Opens (creating if needed) the log in `dir`, taking the writer lock and recovering a torn tail. */
  static async open(dir: string, options: EventLogOptions = {}): Promise<EventLog> {
    if (options.segmentBytes !== undefined && options.segmentBytes < 1024) {
      throw adaError(ErrorCode.badArgument, `segmentBytes must be at least 1024, got ${options.segmentBytes}`);
    }
    const log = new EventLog(path.resolve(dir), options);
    await mkdir(log.dir, { recursive: true, mode: 0o700 });
    log.releaseLock = await acquireWriterLock(log.dir, (err) => log.fail(err));
    try {
      await log.recover();
    } catch (err) {
      await log.releaseLock().catch(() => undefined);
      throw err;
    }
    return log;
  }

  /** Position of the last durable record (0 when the log is empty). */
  get head(): number {
    return this.nextPosition - 1 - this.queuedCount;
  }

  private queuedCount = 0;
  /** Milliseconds of the last group commits' durable writes, a ring of COMMIT_TIMES entries. */
  private readonly commitMs = new Float64Array(COMMIT_TIMES);
  private commits = 0;

  /**
   * How long the last group commits (up to 4,096) took from the write's start until it returned (durable: the
   * segment is open with O_DSYNC), as percentiles in milliseconds: the disk's share of an append's wait, the rest
   * being the batch before it and the event loop. Counts every commit since the log opened.
   */
  commitTimes(): { commits: number; p50Ms: number; p99Ms: number; maxMs: number } {
    const kept = Array.from(this.commitMs.subarray(0, Math.min(this.commits, COMMIT_TIMES))).sort((a, b) => a - b);
    const at = (q: number): number => kept[Math.min(kept.length - 1, Math.floor(kept.length * q))] ?? 0;
    return { commits: this.commits, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: kept.at(-1) ?? 0 };
  }

  /**
   * Appends one event; resolves once it is durable. An event whose `key` is already recorded
   * is not written again: the result carries the original position and `duplicate: true`.
   */
  append(event: NewEvent): Promise<AppendResult> {
    this.assertOpen();
    if (!event || typeof event.type !== 'string' || !KNOWN_TYPES.has(event.type) || typeof event.v !== 'number' || event.data === undefined) {
      return Promise.reject(adaError(ErrorCode.badArgument, `not an event of a known type: ${JSON.stringify(event)?.slice(0, 200)}`));
    }
    const key = event.key;
    if (key !== undefined) {
      const known = this.keys.get(key);
      if (known !== undefined) return Promise.resolve({ position: known, id: '', duplicate: true });
      const pending = this.pendingKeys.get(key);
      if (pending) return pending.then((r) => ({ ...r, duplicate: true }));
    }
    // Encoded now, into the batch being filled: the event is not kept, and a later change to it changes nothing.
    const batch = this.filling ?? (this.filling = this.newBatch());
    const position = this.nextPosition;
    try {
      if (!batch.records.add(position, this.now(), event.source ?? this.defaultSource, event)) {
        return Promise.reject(adaError(ErrorCode.badArgument, `event ${event.type} is over the ${MAX_RECORD_BYTES}-byte record limit: stage bulk data as a blob`));
      }
    } catch (err) {
      return Promise.reject(adaError(ErrorCode.badArgument, `event ${event.type} cannot be serialised as JSON: ${(err as Error).message}`, {}, err));
    }
    this.nextPosition++;
    this.queuedCount++;
    const promise = new Promise<AppendResult>(captureResolvers);
    batch.resolves.push(newResolve);
    batch.rejects.push(newReject);
    if (key !== undefined) {
      batch.keyed.push([position - batch.first, key]);
      this.pendingKeys.set(key, promise);
      promise.then(() => this.pendingKeys.delete(key), () => this.pendingKeys.delete(key));
    }
    if (batch.resolves.length >= MAX_BATCH_RECORDS) {
      this.sealed.push(batch);
      this.filling = undefined;
    }
    if (!this.flushing) this.flushing = this.flushLoop();
    return promise;
  }

  /** Appends several events in order; resolves when all are durable. */
  appendAll(events: NewEvent[]): Promise<AppendResult[]> {
    return Promise.all(events.map((e) => this.append(e)));
  }

  /** Position of an already recorded idempotency key. */
  positionOfKey(key: string): number | undefined {
    return this.keys.get(key);
  }

  /** Every durable record from `from` to the head at subscription time, then completes. */
  read$(from = 1, options: ReadOptions = {}): Observable<RecordedEvent> {
    return readObservable(this.dir, from, this.upcasters, () => this.head, this.cursors, options);
  }

  /**
   * Catch-up from `from`, then every record appended later, with no gap and no duplicate at the hand-over. Records
   * appended later come a turn of the event loop after their appends resolved.
   */
  follow$(from = 1, options: ReadOptions = {}): Observable<RecordedEvent> {
    const wanted = wantedTypes(options);
    return new Observable<RecordedEvent>((subscriber) => {
      let last = from - 1;
      let catchingUp = true;
      const buffered: LiveBatch[] = [];
      const emit = (batch: LiveBatch): void => {
        for (let i = 0; i < batch.count; i++) {
          const position = batch.first + i;
          if (position <= last) continue;
          if (subscriber.closed) return;
          last = position;
          if (!wanted || wanted.has(batch.typeOf(i))) subscriber.next(batch.event(i));
        }
      };
      const liveSub = this.live.subscribe({
        next: (batch) => (catchingUp ? buffered.push(batch) : emit(batch)),
        complete: () => subscriber.complete(),
      });
      const until = this.head;
      readForward(this.dir, { from }, (buf, start, end, position) => {
        if (position <= last) return !subscriber.closed;
        last = position;
        const event = wantedEvent(wanted, buf, start, end, this.upcasters);
        if (event) subscriber.next(event);
        return !subscriber.closed;
      }, until, this.cursors).then(() => {
        catchingUp = false;
        for (const batch of buffered.splice(0)) emit(batch);
      }, (err: unknown) => subscriber.error(err));
      return () => liveSub.unsubscribe();
    });
  }

  /**
   * The position and type of each durable record handed to followers from now on (no catch-up; it may include a
   * batch that became durable just before), without parsing the records: for a process that only needs to know
   * that something of a type was recorded (to wake a loop).
   */
  recorded$(): Observable<{ position: number; type: string }> {
    return new Observable<{ position: number; type: string }>((subscriber) => this.live.subscribe({
      next: (batch) => {
        for (let i = 0; i < batch.count && !subscriber.closed; i++) subscriber.next({ position: batch.first + i, type: batch.typeOf(i) });
      },
      complete: () => subscriber.complete(),
    }));
  }

  /** Waits for queued appends, then releases the file and the lock. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'open') this.state = 'closing';
    await this.flushing?.catch(() => undefined);
    const clean = this.state === 'closing';
    this.state = 'closed';
    this.drainLive();
    this.live.complete();
    if (clean && this.fh && this.activeSize >= KEY_CHECKPOINT_MIN_BYTES) await this.checkpointKeys().catch(() => undefined);
    await this.fh?.close().catch(() => undefined);
    await this.releaseLock().catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.state === 'open') return;
    if (this.state === 'failed') {
      throw adaError(ErrorCode.closed, `event log ${this.dir} failed earlier and accepts no more appends: ${String((this.failure as Error)?.message ?? this.failure)}; reopen it`);
    }
    throw adaError(ErrorCode.closed, `event log ${this.dir} is closed`);
  }

  private fail(err: unknown): void {
    if (this.state === 'closed') return;
    this.state = 'failed';
    this.failure = err;
    const waiting = this.filling ? [...this.sealed, this.filling] : this.sealed;
    this.sealed = [];
    this.filling = undefined;
    for (const b of waiting) for (const reject of b.rejects) reject(err);
  }

  /**
   * Writes and syncs the batches in order. Appends are encoded as they are made, so the CPU work happens while the
   * previous batch syncs; a batch holds what was appended meanwhile (up to MAX_BATCH_RECORDS).
   */
  private async flushLoop(): Promise<void> {
    try {
      // Appends made in the same tick as the first one join its batch.
      await Promise.resolve();
      while (this.state === 'open' || this.state === 'closing') {
        const batch = this.sealed.shift() ?? this.filling;
        if (!batch) break;
        if (batch === this.filling) this.filling = undefined;
        if (batch.resolves.length > 0) await this.writeBatch(batch);
        batch.records.reset();
        if (this.spare.length < SPARE_BUFFERS) this.spare.push(batch.records);
      }
    } finally {
      this.flushing = undefined;
      if ((this.sealed.length > 0 || this.filling) && (this.state === 'open' || this.state === 'closing')) this.flushing = this.flushLoop();
    }
  }

  private newBatch(): Batch {
    return { first: this.nextPosition, records: this.spare.pop() ?? new RecordBuffer(this.idPrefix), resolves: [], rejects: [], keyed: [] };
  }

  /** The time recorded in events, made once per millisecond. */
  private now(): string {
    const ms = Date.now();
    if (ms !== this.atMs) {
      this.atMs = ms;
      this.atIso = new Date(ms).toISOString();
    }
    return this.atIso;
  }

  private idOf(position: number): string {
    return `${this.idPrefix}${position.toString(16).padStart(12, '0')}`;
  }

  private async writeBatch(b: Batch): Promise<void> {
    const buf = b.records.view();
    const count = b.resolves.length;
    try {
      if (this.activeSize > 0 && this.activeSize + buf.length > this.segmentBytes) await this.roll(b.first);
      const started = performance.now();
      // Durable when it returns: the segment is open with O_DSYNC.
      await this.fh.write(buf, 0, buf.length);
      this.commitMs[this.commits++ % COMMIT_TIMES] = performance.now() - started;
    } catch (err) {
      // The file may now hold part of the batch: nothing more is appended until a reopen truncates it.
      const failure = adaError('LOG_WRITE_FAILED', `writing to the event log ${this.dir} failed: ${(err as Error).message}`, {}, err);
      for (const reject of b.rejects) reject(failure);
      this.fail(failure);
      return;
    }
    this.queuedCount -= count;
    this.activeSize += buf.length;
    this.cursors.rememberTail({ segmentFirst: this.activeFirst, offset: this.activeSize, position: b.first + count, ino: this.activeIno });
    for (const [i, key] of b.keyed) this.keys.set(key, b.first + i);
    // Followers in this process get the records without reading them back from disk, once the appends' callers
    // ran (a webhook's answer waits for neither the parsing nor the followers). A copy: the buffer is reused.
    if (this.live.observed) this.queueLive(new LiveBatch(b.first, Buffer.from(buf)));
    for (let i = 0; i < count; i++) {
      const position = b.first + i;
      b.resolves[i]!({ position, id: this.idOf(position), duplicate: false });
    }
  }

  private queueLive(batch: LiveBatch): void {
    this.liveQueue.push(batch);
    if (this.liveScheduled) return;
    this.liveScheduled = true;
    setImmediate(() => this.drainLive());
  }

  /** Hands the queued batches to followers, in order. */
  private drainLive(): void {
    this.liveScheduled = false;
    const batches = this.liveQueue;
    this.liveQueue = [];
    for (const batch of batches) this.live.next(batch);
  }

  /** The idempotency keys recorded in the active segment. */
  private activeKeys(): Record<string, number> {
    const keys: Record<string, number> = {};
    for (const [k, pos] of this.keys) if (pos >= this.activeFirst) keys[k] = pos;
    return keys;
  }

  /** Writes the active segment's key checkpoint (all its appends are durable: close waited for the flush). */
  private async checkpointKeys(): Promise<void> {
    const tail = await tailHash(path.join(this.dir, segmentName(this.activeFirst)), this.activeSize);
    const index: KeyIndexFile = { first: this.activeFirst, last: this.nextPosition - 1, keys: this.activeKeys(), offset: this.activeSize, tail };
    await writeFileAtomic(this.keyIndexPath(this.activeFirst), JSON.stringify(index), { fsync: true, mode: 0o600 });
  }

  /** Seals the active segment (its key index beside it) and starts a new one at `first`. */
  private async roll(first: number): Promise<void> {
    const index: KeyIndexFile = { first: this.activeFirst, last: first - 1, keys: this.activeKeys() };
    await writeFileAtomic(this.keyIndexPath(this.activeFirst), JSON.stringify(index), { fsync: true, mode: 0o600 });
    await this.fh.close();
    this.activeFirst = first;
    this.activeSize = 0;
    this.fh = await openActive(path.join(this.dir, segmentName(first)));
    this.activeIno = (await this.fh.stat()).ino;
    await fsyncDir(this.dir);
  }

  private keyIndexPath(first: number): string {
    return path.join(this.dir, segmentName(first).replace(/\.seg$/, '.keys.json'));
  }

  /** Loads key indexes, scans the active segment, truncates a torn tail, and opens it for appends. */
  private async recover(): Promise<void> {
    const segments = await listSegments(this.dir);
    if (segments.length === 0) {
      this.fh = await openActive(path.join(this.dir, segmentName(1)));
      this.activeIno = (await this.fh.stat()).ino;
      await fsyncDir(this.dir);
      return;
    }
    for (let i = 0; i < segments.length - 1; i++) {
      const seg = segments[i]!;
      const next = segments[i + 1]!;
      const index = await readKeyIndex(this.keyIndexPath(seg.first));
      if (index && index.first === seg.first && index.last === next.first - 1) {
        for (const [k, pos] of Object.entries(index.keys)) this.keys.set(k, pos);
        continue;
      }
      const end = await scanSegment(seg.path, { offset: 0, position: seg.first }, (records) => this.indexKeys(records));
      assertSegmentsJoin(seg.name, end, next.first);
    }
    const last = segments[segments.length - 1]!;
    const end = await scanSegment(last.path, await this.activeScanStart(last), (records) => this.indexKeys(records));
    if (end.problem) {
      if (!end.problem.torn) throw corruptError(last.name, end.problem.offset, end.nextPosition, end.problem.reason);
      const kept = await quarantineTail(this.dir, last, end.end);
      this.logger.warn(
        `event log ${this.dir}: torn tail in ${last.name} at byte ${end.end} (${end.size - end.end} bytes: ${end.problem.reason}); ` +
          `truncated back to the last valid record, position ${end.nextPosition - 1}; the cut bytes are kept in ${kept}`,
      );
      await truncate(last.path, end.end);
      const fh = await open(last.path, 'r+');
      await fh.sync();
      await fh.close();
    }
    this.activeFirst = last.first;
    this.activeSize = end.end;
    this.nextPosition = end.nextPosition;
    this.fh = await openActive(last.path);
    this.activeIno = (await this.fh.stat()).ino;
  }

  /**
   * Where the open's scan of the active segment starts: after its key checkpoint when that still matches the file
   * (its keys taken), else at byte 0. A checkpoint describes durable bytes only, so a torn tail lies after it.
   */
  private async activeScanStart(last: SegmentInfo): Promise<{ offset: number; position: number }> {
    const index = await readKeyIndex(this.keyIndexPath(last.first));
    if (!index || index.first !== last.first || index.offset === undefined || index.tail === undefined) return { offset: 0, position: last.first };
    if (await tailHash(last.path, index.offset) !== index.tail) return { offset: 0, position: last.first };
    for (const [k, pos] of Object.entries(index.keys)) this.keys.set(k, pos);
    return { offset: index.offset, position: index.last + 1 };
  }

  private indexKeys(records: RawRecord[]): void {
    for (const r of records) {
      // Only records that carry a key need parsing here.
      if (r.payload.indexOf('"key":') < 0) continue;
      const parsed = JSON.parse(r.payload.toString('utf8')) as { key?: string; position?: number };
      if (parsed.key !== undefined) this.keys.set(parsed.key, r.position);
    }
  }
}

/** Options whose values are secrets (`--token X`, `--password=X`): the lock's owner file shows `***` instead. */
const SECRET_OPTION = /^--?[^=]*(token|secret|password|passwd)/i;

/** The command line recorded in the lock's owner file: secret option values masked first, then cut to 300 characters. */
export function commandLine(args: readonly string[]): string {
  const shown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!SECRET_OPTION.test(arg)) shown.push(arg);
    else if (arg.includes('=')) shown.push(`${arg.slice(0, arg.indexOf('='))}=***`);
    else if (i + 1 < args.length) {
      shown.push(arg, '***');
      i++;
    } else shown.push(arg);
  }
  return shown.join(' ').slice(0, 300);
}

/** Folder (under the log's dir) keeping the bytes cut off torn tails, so recovery never destroys anything. */
export const QUARANTINE_DIR = 'quarantine';

/** Copies the bytes of `segment` from `offset` to its end into `quarantine/<segment>-<offset>.bin` (fsynced); returns its path. */
async function quarantineTail(dir: string, segment: SegmentInfo, offset: number): Promise<string> {
  const qdir = path.join(dir, QUARANTINE_DIR);
  await mkdir(qdir, { recursive: true, mode: 0o700 });
  const target = path.join(qdir, `${segment.name.replace(/\.seg$/, '')}-${offset}.bin`);
  const src = await open(segment.path, 'r');
  try {
    const { size } = await src.stat();
    const bytes = Buffer.allocUnsafe(Math.max(0, size - offset));
    await src.read(bytes, 0, bytes.length, offset);
    const out = await open(target, 'w', 0o600);
    try {
      await out.writeFile(bytes);
      await out.sync();
    } finally {
      await out.close();
    }
  } finally {
    await src.close();
  }
  await fsyncDir(qdir);
  return target;
}

/** Hash of the `TAIL_CHECK_BYTES` before `offset` in the file with the offset; a file now shorter gives another hash. */
async function tailHash(file: string, offset: number): Promise<string> {
  const from = Math.max(0, offset - TAIL_CHECK_BYTES);
  const buf = Buffer.alloc(offset - from);
  const fh = await open(file, 'r');
  try {
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    return createHash('sha256').update(`${offset}:${bytesRead}:`).update(buf.subarray(0, bytesRead)).digest('hex');
  } finally {
    await fh.close();
  }
}

async function readKeyIndex(file: string): Promise<KeyIndexFile | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as KeyIndexFile;
  } catch {
    return undefined;
  }
}

/** Who holds a log's writer lock: the process, its host, since when, and its command line. */
export interface LogWriterOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  command: string;
}

/**
 * Takes the writer lock of a log directory. A lock whose owner process on this host is gone
 * (killed with SIGKILL) is broken at once rather than after the stale timeout.
 */
async function acquireWriterLock(dir: string, onCompromised: (err: Error) => void): Promise<() => Promise<void>> {
  const lockPath = path.join(dir, LOCK_NAME);
  const ownerPath = path.join(dir, OWNER_NAME);
  const options = { lockfilePath: lockPath, realpath: false, stale: LOCK_STALE_MS, update: LOCK_UPDATE_MS, onCompromised };
  for (let attempt = 0; ; attempt++) {
    try {
      const release = await lockfile.lock(dir, options);
      const owner: LogWriterOwner = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), command: commandLine(process.argv.slice(1)) };
      await writeFile(ownerPath, JSON.stringify(owner), { mode: 0o600 });
      return async () => {
        await rm(ownerPath, { force: true });
        await release();
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      let owner: LogWriterOwner | undefined;
      try {
        owner = JSON.parse(await readFile(ownerPath, 'utf8')) as LogWriterOwner;
      } catch {
        owner = undefined;
      }
      if (attempt === 0 && owner && owner.hostname === os.hostname() && owner.pid !== process.pid && !isProcessAlive(owner.pid)) {
        await rm(lockPath, { recursive: true, force: true });
        continue;
      }
      const who = owner
        ? `process ${owner.pid} on ${owner.hostname} (\`${owner.command}\`, since ${owner.startedAt})`
        : 'another process (its owner file is missing)';
      throw adaError(ErrorCode.locked, `the event log ${dir} is locked by ${who}: only one writer at a time; stop it or use read-only commands`, { owner });
    }
  }
}
