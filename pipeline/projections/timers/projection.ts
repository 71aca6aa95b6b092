/** The timers projection: when each timer last fired or was skipped. */
import { assertNever } from '../../../events/index.ts';
import { defineProjector } from '../../projection.ts';
import type { HandledEvent } from '../../projection.ts';

/** What is known of one timer. */
export interface TimerState {
  lastFired?: { scheduledAt: string; at: string; tables: string[]; catchUp: boolean };
  lastSkipped?: { scheduledAt: string; at: string; reason: string };
  fired: number;
  skipped: number;
}

/** State of the timers projection. */
export interface TimersState {
  timers: Record<string, TimerState>;
}

/** The event types the timers projection folds. */
export const TIMERS_EVENTS = ['TimerFired', 'TimerSkipped'] as const;

/** An event the timers projection folds. */
export type TimersEvent = HandledEvent<(typeof TIMERS_EVENTS)[number]>;

/** Folds timer events. */
export function evolveTimers(state: TimersState, e: TimersEvent): TimersState {
  const t = state.timers[e.data.timer] ?? { fired: 0, skipped: 0 };
  let next: TimerState;
  switch (e.type) {
    case 'TimerFired':
      next = { ...t, fired: t.fired + 1, lastFired: { scheduledAt: e.data.scheduledAt, at: e.at, tables: e.data.tables, catchUp: e.data.catchUp } };
      break;
    case 'TimerSkipped':
      next = { ...t, skipped: t.skipped + 1, lastSkipped: { scheduledAt: e.data.scheduledAt, at: e.at, reason: e.data.reason } };
      break;
    default:
      return assertNever(e);
  }
  return { timers: { ...state.timers, [e.data.timer]: next } };
}

/** When each timer last fired (its `scheduledAt`), for the scheduler: a restart neither fires a timer again nor forgets a missed firing. */
export function lastFiredTimes(state: TimersState): Map<string, Date> {
  return new Map(Object.entries(state.timers).flatMap(([name, t]) => (t.lastFired ? [[name, new Date(t.lastFired.scheduledAt)] as const] : [])));
}

/** The timers projection (state kept in its checkpoint). */
export const timersProjection = defineProjector({
  name: 'timers',
  version: 1,
  handles: TIMERS_EVENTS,
  initialState: (): TimersState => ({ timers: {} }),
  evolve: evolveTimers,
});
