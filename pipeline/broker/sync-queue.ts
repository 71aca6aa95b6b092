/**
 * The broker's one queue of work that writes: syncs from timers and on-demand syncs (and replays)
 * share it, so runs never overlap. Tables queued or running are known, for the timers' skip rule.
 */

import { adaError } from '../../events/index.ts';
import { PipelineErrorCode } from '../errors.ts';

/** A job of the queue. */
export interface QueuedJob<T> {
  /** Tables the job syncs (empty for a replay). */
  tables: readonly string[];
  run(): Promise<T>;
  /**
   * Work that follows the run in the queue once its result was handed back (the next job waits for it, the caller
   * does not). It must not throw: nobody would see the error.
   */
  after?(result: T): Promise<void>;
}

/** Runs one job at a time, in the order they were queued. */
export class SyncQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly busy = new Map<string, number>();
  private closed = false;

  /** True while a run of the table is queued or going. */
  isRunning(table: string): boolean {
    return (this.busy.get(table) ?? 0) > 0;
  }

  /** Queues a job; resolves with its result once it ran (before its `after` work, which the next job waits for). */
  enqueue<T>(job: QueuedJob<T>): Promise<T> {
    if (this.closed) return Promise.reject(adaError(PipelineErrorCode.cancelled, 'the broker is stopping; no new runs are accepted'));
    for (const t of job.tables) this.busy.set(t, (this.busy.get(t) ?? 0) + 1);
    const result = this.tail.then(() => job.run());
    const done = result.then((r) => job.after?.(r)).finally(() => {
      for (const t of job.tables) this.busy.set(t, this.busy.get(t)! - 1);
    });
    this.tail = done.catch(() => undefined);
    return result;
  }

  /** Refuses new jobs and waits for the queued ones to finish. */
  async drain(): Promise<void> {
    this.closed = true;
    await this.tail;
  }
}
