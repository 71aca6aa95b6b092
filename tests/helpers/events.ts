/** Event fixtures for tests. */
import type { NewEvent } from '../../events/index.ts';

/** A small valid event; `n` makes it distinguishable. */
export function timerEvent(n: number, key?: string): NewEvent {
  return {
    type: 'TimerFired', v: 1,
    data: { timer: `timer-${n}`, tables: ['orders'], scheduledAt: '2026-01-01T00:00:00.000Z', catchUp: false },
    ...(key !== undefined ? { key } : {}),
  };
}
