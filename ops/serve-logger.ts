/**
 * The logger of `ada serve`: pino, shared by fastify (request lines with request ids) and the
 * broker (syncs, timers, health). JSON lines on stdout; pino-pretty when stdout is a terminal.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import pretty from 'pino-pretty';
import type { BrokerLogger } from '../pipeline/index.ts';
import type { CommandContext } from './command.ts';

/** Where secrets can sit in a log line: credentials of requests and answers, and any field named like one. */
export const REDACTED_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["proxy-authorization"]', 'req.headers["x-api-key"]',
  'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie',
  'token', 'password', 'secret', 'authorization', 'cookie',
  '*.token', '*.password', '*.secret', '*.authorization', '*.cookie', '*.accessToken', '*.refreshToken', '*.apiToken',
];

/** The server's logger: JSON lines through the command's stdout, or pretty lines on a terminal. */
export function serveLogger(ctx: Pick<CommandContext, 'isTTY' | 'out'>): Logger {
  const options = { level: 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (ctx.isTTY) return pino(options, pretty({ destination: 1, sync: true, colorize: true, translateTime: 'SYS:standard', ignore: 'pid,hostname' }));
  return pino(options, { write: (line: string) => ctx.out(line.endsWith('\n') ? line.slice(0, -1) : line) });
}

/** The broker's view of a pino logger. */
export function brokerLogger(logger: Logger): BrokerLogger {
  return {
    info: (message, fields = {}) => logger.info(fields, message),
    warn: (message, fields = {}) => logger.warn(fields, message),
    error: (message, fields = {}) => logger.error(fields, message),
  };
}
