/**
 * Request logging with a budget. Fastify's own logs two lines per request (received, completed):
 * at a few thousand requests a second, formatting and redacting them costs more CPU than
 * answering. Here every failed request (an error that ended in a 5xx) is logged, other requests
 * up to a few lines a second, and a summary line each minute counts all of them, so a busy
 * server's log stays readable and cheap. A 5xx a route answers on purpose (`/health` saying
 * unhealthy, polled by a load balancer) is no failure of the request: it is budgeted like the
 * rest. Each request's logger is lazy: pino's `child()` redacts its bindings, so it is made only
 * when that request writes a line at an enabled level.
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

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
  /** Requests whose error reached the error handler. */
  const erred = new WeakSet<object>();
  app.addHook('onError', (req, _reply, _err, done) => {
    erred.add(req);
    done();
  });
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
    const failed = status >= 500 && erred.has(req);
    if (!failed && linesThisSecond >= limits.linesPerSecond) {
      counts.unlogged++;
    } else {
      linesThisSecond++;
      // The path only: query strings can carry an OAuth code or state.
      const line = { req: { method: req.method, url: req.url.split('?')[0], remoteAddress: req.ip }, res: { statusCode: status }, responseTime: Math.round(ms * 10) / 10 };
      if (failed) req.log.error(line, 'request failed');
      else if (status >= 500) req.log.warn(line, 'request completed');
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

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger that makes the real child (pino redacts its bindings on every `child()`) on
 * the first line written at a level the parent enables: most requests under the budget write none,
 * and `@fastify/secure-session` calls `trace` on every answer.
 */
export class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(private readonly parent: FastifyBaseLogger, private readonly bindings: Bindings, private readonly options: ChildLoggerOptions) {}

  /** The real child, made once. */
  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  /** Whether a line at `level` would be written; without `isLevelEnabled` (not pino), assume it would. */
  private enabled(level: Level): boolean {
    if (this.made) return true;
    const parent = this.parent as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };
    return parent.isLevelEnabled?.(level) ?? true;
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.enabled(level)) return;
    const real = this.real;
    (real[level] as (...a: unknown[]) => void).apply(real, args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/**
 * Fastify's `childLoggerFactory` for lazy request loggers. A route with its own level or
 * serialisers gets pino's child at once (its level decides what is enabled, not the parent's).
 */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options);
  return new LazyChildLogger(logger, bindings, options);
}
