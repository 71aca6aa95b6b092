/** Event fixtures for tests, and the events a data directory's log holds. */
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLogReader } from '../../events/index.ts';
import type { EventType, NewEvent, RecordedEvent } from '../../events/index.ts';

/** A small valid event; `n` makes it distinguishable. */
export function timerEvent(n: number, key?: string): NewEvent {
  return {
    type: 'TimerFired', v: 1,
    data: { timer: `timer-${n}`, tables: ['orders'], scheduledAt: '2026-01-01T00:00:00.000Z', catchUp: false },
    ...(key !== undefined ? { key } : {}),
  };
}

/** Every event of a data directory's log, in order, read without opening it for writing. */
export function readEvents(dataDir: string): Promise<RecordedEvent[]> {
  return lastValueFrom(new EventLogReader(path.join(dataDir, 'events')).read$(1).pipe(toArray()), { defaultValue: [] });
}

/** The events of one type in a data directory's log, in order. */
export async function readEventsOf<T extends EventType>(dataDir: string, type: T): Promise<Array<RecordedEvent & { type: T }>> {
  return (await readEvents(dataDir)).filter((e): e is RecordedEvent & { type: T } => e.type === type);
}
