/** Health answered from a recent report: one evaluation at a time, reused for a short while, so `/health` stays cheap under load. */
import type { HealthReport } from '../../pipeline/index.ts';

/** How long a report is reused: monitors poll every few seconds at most; the broker re-evaluates on every event anyway. */
export const HEALTH_REUSE_MS = 1_000;

/**
 * Wraps an evaluation: concurrent callers share one run, and its report serves callers for
 * `HEALTH_REUSE_MS` as long as `version` (the log head) has not moved, so an event is never hidden.
 */
export function cachedHealth(evaluate: () => Promise<HealthReport>, version: () => number = () => 0, reuseMs = HEALTH_REUSE_MS): CachedHealth {
  let last: { at: number; version: number; report: HealthReport } | undefined;
  let running: Promise<HealthReport> | undefined;
  const now = (): HealthReport | undefined => (last && last.version === version() && Date.now() - last.at < reuseMs ? last.report : undefined);
  return Object.assign(() => {
    const reused = now();
    if (reused) return Promise.resolve(reused);
    const v = version();
    running ??= evaluate().then((report) => {
      last = { at: Date.now(), version: v, report };
      return report;
    }).finally(() => {
      running = undefined;
    });
    return running;
  }, { now });
}

/** A cached health evaluation: called, the report (waiting for an evaluation when none may be reused); `now()`, the report that may be reused now, without a promise, or undefined. */
export interface CachedHealth {
  (): Promise<HealthReport>;
  now(): HealthReport | undefined;
}
