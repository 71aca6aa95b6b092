/**
 * Request logging with a budget. Fastify's own logs two lines per request (received, completed):
 * at a few thousand requests a second, formatting and redacting them costs more CPU than
 * answering. Here every failed request (5xx) is logged, other requests up to a few lines a
 * second, and a summary line each minute counts all of them, so a busy server's log stays
 * readable and cheap.
 */
import type { FastifyInstance } from 'fastify';

/** Limits of request logging, with their reasons. */
export const REQUEST_LOG_LIMITS = {
  /** Lines for requests that did not fail, per second: enough to follow a person's clicks, cheap under load. */
  linesPerSecond: 10,
  /** How often the summary line counts what was answered. */
  summaryMs: 60_000,
} as const;

/** Requests answered since the last summary, by status class. */
interface Counts {
  requests: number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
  /** Requests not logged one by one (over the budget). */
  unlogged: number;
  /** Slowest answer, ms. */
  slowestMs: number;
}

const zero = (): Counts => ({ requests: 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, unlogged: 0, slowestMs: 0 });

/** Installs the logging hooks on the server (built with fastify's own request lines disabled). */
export function installRequestLog(app: FastifyInstance, limits: { linesPerSecond: number; summaryMs: number } = REQUEST_LOG_LIMITS, now: () => number = Date.now): void {
  let counts = zero();
  let second = 0;
  let linesThisSecond = 0;
  app.addHook('onResponse', (req, reply, done) => {
    const status = reply.statusCode;
    const ms = reply.elapsedTime;
    counts.requests++;
    const cls = status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx';
    counts[cls]++;
    if (ms > counts.slowestMs) counts.slowestMs = ms;
    const s = Math.floor(now() / 1000);
    if (s !== second) {
      second = s;
      linesThisSecond = 0;
    }
    if (status < 500 && linesThisSecond >= limits.linesPerSecond) {
      counts.unlogged++;
    } else {
      linesThisSecond++;
      // The path only: query strings can carry an OAuth code or state.
      const line = { req: { method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip }, res: { statusCode: status }, responseTime: Math.round(ms * 10) / 10 };
      if (status >= 500) req.log.error(line, 'request failed');
      else req.log.info(line, 'request completed');
    }
    done();
  });
  const summary = (): void => {
    if (counts.requests === 0) return;
    const c = counts;
    counts = zero();
    app.log.info({ ...c, slowestMs: Math.round(c.slowestMs), periodMs: limits.summaryMs }, `answered ${c.requests} requests`);
  };
  const timer = setInterval(summary, limits.summaryMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    summary();
  });
}
