/** Retry timing of Keboola requests: exponential backoff with full jitter, `Retry-After`, bounded attempts and total time. */

/** How one request is retried; injectable so tests run in milliseconds. */
export interface RetryPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** The backoff before retry n is uniform in [0, min(maxDelayMs, baseDelayMs · 2^(n-1))) (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A request gives up once its attempts and waits would pass this; a `Retry-After` beyond it fails at once. */
  maxTotalMs: number;
}

/**
 * Production timing. Six attempts over at most five minutes ride out a Keboola deploy or a short S3 brown-out
 * (typically seconds to a minute) without letting a dead stack hold a sync for long; 30 s caps one wait so a
 * retry still happens within the 5 minutes.
 */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 30_000, maxTotalMs: 5 * 60_000 };

/** How an export job is polled; injectable for tests. */
export interface JobPollPolicy {
  /** First wait after the job was created; later waits double while shorter than `doubleUntilMs`, then grow by `factor` up to `maxDelayMs`. */
  initialDelayMs: number;
  doubleUntilMs: number;
  maxDelayMs: number;
  factor: number;
  /** A job still waiting or processing after this fails the sync with KEBOOLA_JOB_TIMEOUT. */
  maxWaitMs: number;
}

/**
 * A cached export (unchanged table, same parameters) is done within a few hundred milliseconds and a small one
 * within seconds, so polling starts at 20 ms and doubles up to 0.16 s, then grows by half each time (where the first
 * wait was 0.1 s: a job done at once is seen up to 80 ms sooner, for one or two more cheap GETs in its first seconds
 * and two in all); 10 s between polls keeps a long export from flooding the API. Exports of tables with hundreds of
 * millions of rows take tens of minutes and wait in the project's job queue behind other work, so a job gets
 * 3 hours before we give up on it.
 */
export const DEFAULT_JOB_POLL: JobPollPolicy = { initialDelayMs: 20, doubleUntilMs: 100, maxDelayMs: 10_000, factor: 1.5, maxWaitMs: 3 * 60 * 60_000 };

/** The wait after `delay` under `policy`. */
export function nextPollDelay(delay: number, policy: JobPollPolicy): number {
  return Math.min(policy.maxDelayMs, delay * (delay < policy.doubleUntilMs ? 2 : policy.factor));
}

/** The full-jitter backoff before retry number `retry` (1 for the first retry). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

/** Milliseconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}
