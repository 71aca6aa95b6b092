/**
 * Timers inside `ada serve`: each firing is a `TimerFired` event followed by the same sync code
 * path as `ada sync`; a table whose previous run still goes is skipped (`TimerSkipped`), so runs
 * never stack; a firing missed during downtime runs once at start.
 */
import { asyncScheduler, defer, EMPTY, expand, map, mergeMap, Observable, timer } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { NewEvent } from '../../events/index.ts';
import { nextFiring, previousFiring } from './timers.ts';
import type { TimerSpec } from './timers.ts';

/** What the scheduler needs from its host. */
export interface SchedulerHost {
  specs: TimerSpec[];
  /** Last `scheduledAt` each timer fired for (from the log), to detect missed runs. */
  lastFired: ReadonlyMap<string, Date>;
  append(event: NewEvent): Promise<unknown>;
  /** True while a run of the table is queued or going. */
  isRunning(table: string): boolean;
  /** Starts syncing the tables (does not wait for them). */
  startRun(tables: string[], timer: string): void;
  /** RxJS scheduler: `asyncScheduler` in production, a `TestScheduler` in tests. */
  scheduler?: SchedulerLike;
  /** Reports a failure to record a firing (the scheduler keeps going). */
  onError?(err: unknown): void;
}

/** One firing of a timer. */
export interface Firing {
  spec: TimerSpec;
  scheduledAt: Date;
  catchUp: boolean;
}

/** Every firing of one timer, from now on (plus one catch-up firing when a run was missed). */
export function firings$(spec: TimerSpec, lastFired: Date | undefined, scheduler: SchedulerLike): Observable<Firing> {
  return defer(() => {
    const now = new Date(scheduler.now());
    const missed = previousFiring(spec.cron, now);
    const catchUp: Observable<Firing> = lastFired !== undefined && lastFired < missed
      ? defer(() => [{ spec, scheduledAt: missed, catchUp: true }])
      : EMPTY;
    const regular = defer(() => {
      const first = nextFiring(spec.cron, now);
      return timer(first, scheduler).pipe(
        map(() => first),
        expand((prev) => {
          const next = nextFiring(spec.cron, prev);
          return timer(next, scheduler).pipe(map(() => next));
        }),
        map((scheduledAt): Firing => ({ spec, scheduledAt, catchUp: false })),
      );
    });
    return new Observable<Firing>((subscriber) => {
      const a = catchUp.subscribe({ next: (f) => subscriber.next(f), error: (e) => subscriber.error(e) });
      const b = regular.subscribe(subscriber);
      return () => { a.unsubscribe(); b.unsubscribe(); };
    });
  });
}

/** Records a firing and starts the runnable tables; tables still running are skipped. */
export async function fire(host: SchedulerHost, firing: Firing): Promise<void> {
  const { spec, scheduledAt, catchUp } = firing;
  const at = scheduledAt.toISOString();
  const busy = spec.tables.filter((t) => host.isRunning(t));
  const runnable = spec.tables.filter((t) => !host.isRunning(t));
  if (busy.length > 0) {
    await host.append({
      type: 'TimerSkipped', v: 1, source: 'timer', key: `timer-skipped:${spec.name}:${at}`,
      data: { timer: spec.name, tables: busy, scheduledAt: at, reason: `previous run still going for ${busy.join(', ')}` },
    });
  }
  if (runnable.length === 0) return;
  const { duplicate } = (await host.append({
    type: 'TimerFired', v: 1, source: 'timer', key: `timer:${spec.name}:${at}`,
    data: { timer: spec.name, tables: runnable, scheduledAt: at, catchUp },
  })) as { duplicate?: boolean };
  if (!duplicate) host.startRun(runnable, spec.name);
}

/** Starts every timer; unsubscribe to stop them. */
export function startScheduler(host: SchedulerHost): Subscription {
  const scheduler = host.scheduler ?? asyncScheduler;
  return defer(() => host.specs)
    .pipe(
      mergeMap((spec) => firings$(spec, host.lastFired.get(spec.name), scheduler)),
      mergeMap((firing) => defer(() => fire(host, firing).catch((err: unknown) => host.onError?.(err)))),
    )
    .subscribe();
}
