/**
 * What the portal keeps of the event log in memory: the newest events (for the event log page) and
 * each table's publish history. It reads only what was appended since its last look, on demand.
 */
import { lastValueFrom, tap, toArray } from 'rxjs';
import type { RecordedEvent } from '../../events/index.ts';
import type { PortalLog } from '../deps.ts';

/** Limits of the index, with their reasons. */
export const LOG_INDEX_LIMITS = {
  /** Newest events kept for the event log page: a day of a busy broker, a few MB of memory. */
  recentEvents: 5_000,
  /** Publishes kept per table for its history chart. */
  publishesPerTable: 200,
} as const;

/** One publish of a table. */
export interface PublishPoint {
  at: string;
  rows: number;
  bytes: number;
  position: number;
}

/** The in-memory index over a log. */
export class LogIndex {
  private position = 0;
  private readonly recent: RecordedEvent[] = [];
  private readonly publishes = new Map<string, PublishPoint[]>();
  private reading: Promise<void> | undefined;

  constructor(private readonly log: PortalLog | undefined) {}

  /** Reads what was appended since the last call (one read at a time). */
  async refresh(): Promise<void> {
    if (!this.log || this.log.head <= this.position) return;
    this.reading ??= (async () => {
      try {
        const from = Math.max(this.position + 1, this.log!.head - LOG_INDEX_LIMITS.recentEvents * 4);
        await lastValueFrom(this.log!.read$(from).pipe(tap((e) => this.add(e)), toArray()), { defaultValue: [] });
      } finally {
        this.reading = undefined;
      }
    })();
    await this.reading;
  }

  private add(e: RecordedEvent): void {
    if (e.position <= this.position) return;
    this.position = e.position;
    this.recent.push(e);
    if (this.recent.length > LOG_INDEX_LIMITS.recentEvents * 1.2) this.recent.splice(0, this.recent.length - LOG_INDEX_LIMITS.recentEvents);
    if (e.type === 'TablePublished') {
      const list = this.publishes.get(e.data.table) ?? [];
      list.push({ at: e.at, rows: e.data.rows, bytes: e.data.bytes, position: e.position });
      if (list.length > LOG_INDEX_LIMITS.publishesPerTable) list.shift();
      this.publishes.set(e.data.table, list);
    }
  }

  /** Newest first. */
  newest(): RecordedEvent[] {
    return [...this.recent].reverse();
  }

  /** One event by position, when still in memory. */
  at(position: number): RecordedEvent | undefined {
    return this.recent.find((e) => e.position === position);
  }

  /** A table's publishes, oldest first. */
  history(table: string): PublishPoint[] {
    return this.publishes.get(table) ?? [];
  }
}
