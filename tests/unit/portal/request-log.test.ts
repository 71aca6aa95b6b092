import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { installRequestLog, lazyChildLogger } from '../../../portal/request-log.ts';

interface Line { msg: string; level: number; reqId?: string; req?: { url?: string }; res?: { statusCode?: number }; requests?: number; unlogged?: number; '2xx'?: number; '4xx'?: number; '5xx'?: number }

async function server(clock: { ms: number }) {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l) as Line) });
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), childLoggerFactory: lazyChildLogger });
  installRequestLog(app, { linesPerSecond: 3, summaryMs: 3_600_000 }, () => clock.ms);
  app.get('/ok', async () => ({ ok: true }));
  app.get('/fail', async () => {
    throw new Error('boom');
  });
  app.get('/unhealthy', async (_req, reply) => reply.code(503).send({ status: 'unhealthy' }));
  return { app, lines };
}

describe('request log', () => {
  it('logs requests up to the budget per second, every 5xx, and counts them all in the summary', async () => {
    const clock = { ms: 1_000_000 };
    const { app, lines } = await server(clock);
    for (let i = 0; i < 10; i++) await app.inject({ url: '/ok?code=secret-oauth-code' });
    for (let i = 0; i < 2; i++) await app.inject({ url: '/fail' });
    await app.inject({ url: '/nope' });
    const completed = lines.filter((l) => l.msg === 'request completed');
    assert.equal(completed.length, 3, 'three lines this second');
    assert.ok(completed.every((l) => l.reqId && l.req?.url === '/ok' && l.res?.statusCode === 200));
    assert.equal(lines.filter((l) => l.msg === 'request failed' && l.res?.statusCode === 500).length, 2, 'failures are always logged');
    clock.ms += 1_000;
    await app.inject({ url: '/ok' });
    assert.equal(lines.filter((l) => l.msg === 'request completed').length, 4, 'a new second, a new budget');
    await app.close();
    const summary = lines.find((l) => l.msg === 'answered 14 requests');
    assert.ok(summary, JSON.stringify(lines.map((l) => l.msg)));
    assert.equal(summary['2xx'], 11);
    assert.equal(summary['4xx'], 1);
    assert.equal(summary['5xx'], 2);
    assert.equal(summary.unlogged, 8);
    assert.ok(!JSON.stringify(lines).includes('secret-oauth-code'), 'query strings are not logged');
  });

  it('budgets a 5xx a route answers on purpose (an unhealthy /health), unlike a failure', async () => {
    const clock = { ms: 1_000_000 };
    const { app, lines } = await server(clock);
    for (let i = 0; i < 10; i++) await app.inject({ url: '/unhealthy' });
    await app.inject({ url: '/fail' });
    const answered = lines.filter((l) => l.res?.statusCode === 503);
    assert.equal(answered.length, 3, 'within the budget of the second');
    assert.ok(answered.every((l) => l.msg === 'request completed' && l.level === 40), 'at warn');
    assert.equal(lines.filter((l) => l.msg === 'request failed' && l.res?.statusCode === 500).length, 1, 'a failure over the budget is still logged');
    await app.close();
    const summary = lines.find((l) => l.msg === 'answered 11 requests');
    assert.equal(summary?.['5xx'], 11);
    assert.equal(summary?.unlogged, 7);
  });

  it('makes a request\'s child logger only when the request writes a line at an enabled level', async () => {
    const lines: Line[] = [];
    const logger = pino({ level: 'info', redact: ['token'] }, { write: (l: string) => lines.push(JSON.parse(l) as Line) });
    let children = 0;
    const child = logger.child.bind(logger);
    logger.child = ((...args: Parameters<typeof child>) => {
      children++;
      return child(...args);
    }) as typeof logger.child;
    const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), childLoggerFactory: lazyChildLogger });
    app.get('/quiet', async (req) => {
      req.log.debug('below the level');
      req.log.trace({ token: 'x' }, 'below the level');
      return { level: req.log.level };
    });
    app.get('/says', async (req) => {
      req.log.info({ token: 'secret-value' }, 'said');
      req.log.warn('twice');
      return {};
    });
    app.get('/own-level', { logLevel: 'debug' }, async (req) => {
      req.log.debug('at the route\'s level');
      return {};
    });
    await app.ready();
    const before = children;
    assert.deepEqual((await app.inject({ url: '/quiet' })).json(), { level: 'info' });
    assert.equal(children, before, 'no line, no child');
    assert.equal(lines.length, 0);
    await app.inject({ url: '/says' });
    assert.equal(children, before + 1, 'one child for the request, made on its first line');
    const said = lines.filter((l) => l.msg === 'said' || l.msg === 'twice');
    assert.equal(said.length, 2);
    assert.ok(said.every((l) => l.reqId === said[0]!.reqId && l.reqId), 'the request id is bound');
    assert.ok(!JSON.stringify(lines).includes('secret-value'), 'redaction applies');
    await app.inject({ url: '/own-level' });
    assert.ok(lines.some((l) => l.msg === 'at the route\'s level'), 'a route\'s own level is honoured');
    await app.close();
  });
});
