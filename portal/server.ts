/** The HTTP server: the app plus logger (lazy request loggers, request lines on a budget, see request-log.ts), timeouts and graceful close. */
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { adaApp } from './app.ts';
import { installErrorHandler } from './error-handler.ts';
import { installRequestLog, lazyChildLogger } from './request-log.ts';
import type { AppDeps } from './app.ts';

/** Limits of the server, with their reasons. */
const LIMITS = {
  /** Request bodies are small JSON (webhooks, settings); anything bigger is refused with 413. */
  bodyLimit: 1024 * 1024,
  /** Slow clients must not hold sockets forever. */
  requestTimeout: 30_000,
};

/** Builds the server (not listening yet); `logger` is the process's pino logger (`ada serve`), or none. */
export async function buildServer(deps: AppDeps, options: { logger?: FastifyBaseLogger } = {}): Promise<FastifyInstance> {
  const app = Fastify({ ...(options.logger ? { loggerInstance: options.logger, childLoggerFactory: lazyChildLogger } : { logger: false }), logController: new LogController({ disableRequestLogging: true }), bodyLimit: LIMITS.bodyLimit, requestTimeout: LIMITS.requestTimeout });
  installErrorHandler(app);
  if (options.logger) installRequestLog(app);
  await app.register(adaApp(deps));
  return app;
}
