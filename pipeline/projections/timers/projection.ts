/** The timers projection: when each timer last fired or was skipped. */
import type { RecordedEvent } from '../../../events/index.ts';
import { defineProjection } from '../../projection.ts';

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

/** Folds timer events. */
export function evolveTimers(state: TimersState, e: RecordedEvent): TimersState {
  if (e.type !== 'TimerFired' && e.type !== 'TimerSkipped') return state;
  const t = state.timers[e.data.timer] ?? { fired: 0, skipped: 0 };
  const next: TimerState = e.type === 'TimerFired'
    ? { ...t, fired: t.fired + 1, lastFired: { scheduledAt: e.data.scheduledAt, at: e.at, tables: e.data.tables, catchUp: e.data.catchUp } }
    : { ...t, skipped: t.skipped + 1, lastSkipped: { scheduledAt: e.data.scheduledAt, at: e.at, reason: e.data.reason } };
  return { timers: { ...state.timers, [e.data.timer]: next } };
}

/** The timers projection (state kept in its checkpoint). */
export const timersProjection = defineProjection<TimersState>({
  name: 'timers',
  version: 1,
  handles: ['TimerFired', 'TimerSkipped'],
  initialState: () => ({ timers: {} }),
  evolve: evolveTimers,
});
