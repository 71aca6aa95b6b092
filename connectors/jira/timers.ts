/** The Jira timers: consistency every 30 minutes, a deep pass weekly, the SLA poll every 15 minutes. */
import type { SchedulerLike, Subscription } from 'rxjs';
import { startScheduler } from '../../pipeline/index.ts';
import type { TimerSpec } from '../../pipeline/index.ts';
import type { NewEvent } from '../../events/index.ts';

/** A Jira timer: its name, cron (UTC) and job. */
export interface JiraTimer {
  name: string;
  cron: string;
  run(scheduledAt: string): Promise<void>;
}

/** Cron of each timer. */
export const JIRA_CRONS = {
  'jira:consistency': '*/30 * * * *',
  'jira:consistency-deep': '0 3 * * 0',
  'jira:sla': '*/15 * * * *',
} as const;

/** The name of a Jira timer. */
export type JiraTimerName = keyof typeof JIRA_CRONS;

/** Names of the timers Jira runs with these settings (the SLA poll only with SLA fields). */
export function jiraTimerNames(settings: { slaFields: readonly string[] }): JiraTimerName[] {
  return ['jira:consistency', 'jira:consistency-deep', ...(settings.slaFields.length ? ['jira:sla' as const] : [])];
}

/** The specs as the pipeline scheduler and health see them (the timer's own name stands in for its "table"). */
export function jiraTimerSpecs(timers: ReadonlyArray<Pick<JiraTimer, 'name' | 'cron'>>): TimerSpec[] {
  return timers.map((t) => ({ name: t.name, cron: t.cron, tables: [t.name] }));
}

/** What running the timers needs. */
export interface JiraTimerHost {
  timers: readonly JiraTimer[];
  lastFired: ReadonlyMap<string, Date>;
  append(event: NewEvent): Promise<unknown>;
  onError(err: unknown, timer: string): void;
  /** A `TestScheduler`/`VirtualTimeScheduler` in tests. */
  scheduler?: SchedulerLike;
}

/**
 * Starts the timers on the pipeline scheduler: each firing is a `TimerFired` event (health shows it); a timer
 * whose previous job still runs is skipped with `TimerSkipped`, so jobs never stack.
 */
export function startJiraTimers(host: JiraTimerHost): { subscription: Subscription; running: ReadonlySet<string>; idle(): Promise<void> } {
  const running = new Set<string>();
  const jobs = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    jobs.add(p);
    void p.catch(() => undefined).finally(() => jobs.delete(p));
    return p;
  };
  const subscription = startScheduler({
    specs: jiraTimerSpecs(host.timers),
    lastFired: host.lastFired,
    // Firings are tracked too, so `idle` also waits for a firing still being recorded.
    append: (e) => track(host.append(e)),
    isRunning: (name) => running.has(name),
    ...(host.scheduler ? { scheduler: host.scheduler } : {}),
    onError: (err) => host.onError(err, 'scheduler'),
    startRun: (names) => {
      for (const name of names) {
        const timer = host.timers.find((t) => t.name === name);
        if (!timer) continue;
        running.add(name);
        void track(timer.run(new Date(host.scheduler?.now() ?? Date.now()).toISOString())
          .catch((err: unknown) => host.onError(err, name))
          .finally(() => running.delete(name)));
      }
    },
  });
  return { subscription, running, idle: async () => { while (jobs.size) await Promise.all(jobs); } };
}
