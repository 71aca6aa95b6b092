import assert from 'node:assert/strict';
import { it } from 'node:test';
import { brokerLogger, serveLogger } from '../../../ops/serve-logger.ts';

it('the serve logger writes JSON lines and redacts credentials wherever they sit', () => {
  const lines: string[] = [];
  const logger = serveLogger({ isTTY: false, out: (s) => lines.push(s) });
  const secret = 'sk-very-secret-0123456789';
  logger.info({ req: { headers: { authorization: `Bearer ${secret}`, cookie: `s=${secret}`, host: 'x' } } }, 'request');
  logger.info({ res: { headers: { 'set-cookie': `s=${secret}` } } }, 'answer');
  logger.info({ token: secret, source: { apiToken: secret, password: secret } }, 'fields');
  brokerLogger(logger).info('sync done', { table: 'orders', secret });
  logger.flush();
  assert.equal(lines.length, 4);
  for (const line of lines) {
    const parsed = JSON.parse(line) as { msg: string; level: number };
    assert.equal(parsed.level, 30);
    assert.ok(!line.includes(secret), line);
  }
  assert.match(lines[0]!, /"authorization":"\[redacted\]"/);
  assert.match(lines[0]!, /"host":"x"/);
  assert.match(lines[3]!, /"table":"orders"/);
});
