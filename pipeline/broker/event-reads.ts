/** Read-only views of the event log for operators: tail, show, statistics, verification. No writer lock. */
import { stat } from 'node:fs/promises';
import { filter, firstValueFrom, lastValueFrom, reduce } from 'rxjs';
import type { Observable } from 'rxjs';
import type { EventLogReader, RecordedEvent } from '../../events/index.ts';

/** Records and bytes of one event type. */
export interface TypeStats {
  records: number;
  bytes: number;
}

/** Where the log is broken (or torn at its tail). */
export interface LogProblem {
  segment: string;
  offset: number;
  position: number;
  reason: string;
  torn?: boolean;
}

/** What `stats` reports. */
export interface LogStats {
  dir: string;
  head: number;
  records: number;
  bytes: number;
  firstAt: string | null;
  lastAt: string | null;
  segments: Array<{ name: string; first: number; bytes: number }>;
  types: Record<string, TypeStats>;
  problem?: LogProblem;
}

/** What `verify` reports: `problem` is real corruption; a torn tail alone is not. */
export interface LogVerification {
  ok: boolean;
  records: number;
  head: number;
  segments: number;
  problem?: LogProblem;
  tornTail?: LogProblem;
}

/** The `events` part of the broker API. */
export interface EventReads {
  head(): Promise<number>;
  /** Events from `from` to the head (or on, with `follow`), of the given types (all when empty). */
  read$(from: number, options?: { types?: readonly string[]; follow?: boolean }): Observable<RecordedEvent>;
  /** The position from which the last `n` events of the given types (all when empty) start. */
  tailStart(n: number, types?: readonly string[]): Promise<number>;
  /** The event at a position, or undefined. */
  show(position: number): Promise<RecordedEvent | undefined>;
  stats(): Promise<LogStats>;
  verify(): Promise<LogVerification>;
}

/** Event reads over a reader of the log's directory. */
export function eventReads(reader: EventLogReader): EventReads {
  return {
    head: () => reader.head(),
    read$(from, options = {}) {
      const types = options.types ?? [];
      return (options.follow ? reader.follow$(from) : reader.read$(from)).pipe(filter((e) => types.length === 0 || types.includes(e.type)));
    },
    async tailStart(n, types = []) {
      if (types.length === 0) return Math.max(1, (await reader.head()) - n + 1);
      const positions = await lastValueFrom(reader.read$(1).pipe(
        filter((e) => types.includes(e.type)),
        reduce((kept: number[], e) => [...kept.slice(kept.length >= n ? 1 : 0), e.position], []),
      ), { defaultValue: [] });
      return positions[0] ?? Number.MAX_SAFE_INTEGER;
    },
    async show(position) {
      const found = await firstValueFrom(reader.read$(position), { defaultValue: undefined });
      return found?.position === position ? found : undefined;
    },
    async stats() {
      const byType = new Map<string, TypeStats>();
      let first: string | undefined;
      let last: string | undefined;
      let records = 0;
      const scan = await reader.scan((_seg, r) => {
        const e = JSON.parse(r.payload.toString('utf8')) as RecordedEvent;
        const s = byType.get(e.type) ?? { records: 0, bytes: 0 };
        s.records += 1;
        s.bytes += r.payload.length + 8;
        byType.set(e.type, s);
        first ??= e.at;
        last = e.at;
        records += 1;
      });
      let bytes = 0;
      const segments = [];
      for (const seg of scan.segments) {
        const { size } = await stat(seg.path);
        bytes += size;
        segments.push({ name: seg.name, first: seg.first, bytes: size });
      }
      return {
        dir: reader.dir, head: scan.head, records, bytes, firstAt: first ?? null, lastAt: last ?? null, segments,
        types: Object.fromEntries([...byType].sort((a, b) => b[1].records - a[1].records)),
        ...(scan.problem ? { problem: scan.problem } : {}),
      };
    },
    async verify() {
      let records = 0;
      let bad: LogProblem | undefined;
      const scan = await reader.scan((seg, r) => {
        if (bad) return;
        records += 1;
        try {
          const e = JSON.parse(r.payload.toString('utf8')) as { position?: number; type?: unknown };
          if (e.position !== r.position) throw new Error(`record says position ${e.position}, its place says ${r.position}`);
          if (typeof e.type !== 'string') throw new Error('record has no event type');
        } catch (err) {
          bad = { segment: seg.name, offset: r.offset, position: r.position, reason: (err as Error).message };
        }
      });
      const problem = bad ?? (scan.problem && !scan.problem.torn ? scan.problem : undefined);
      const torn = scan.problem?.torn ? scan.problem : undefined;
      return { ok: !problem, records, head: scan.head, segments: scan.segments.length, ...(problem ? { problem } : {}), ...(torn ? { tornTail: torn } : {}) };
    },
  };
}
