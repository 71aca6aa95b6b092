import assert from 'node:assert/strict';
import { it } from 'node:test';
import WebSocket from 'ws';
import { runCli, startServe } from '../helpers/cli.ts';
import { csvInstance, PUBLIC_AND_PRIVATE_TABLES } from '../helpers/instance.ts';

const TABLES = PUBLIC_AND_PRIVATE_TABLES;

it('ada serve: an analyst with a token gets live notifications of public tables, /health hides private ones', { timeout: 90_000 }, async (t) => {
  const inst = await csvInstance(t, TABLES);
  await inst.writeCsv('orders.csv', 'id\n1\n');
  await inst.writeCsv('credit.csv', 'id,limit\n1,\n');
  assert.equal((await runCli(['analyst', 'add', 'bob', ...inst.flags])).code, 0);
  const token = (await runCli(['analyst', 'token', 'bob', ...inst.flags])).stdout.trim();
  assert.match(token, /^ada_/);
  assert.equal((await runCli(['analyst', 'add', 'carol', '--private', ...inst.flags])).code, 0);
  const privileged = (await runCli(['analyst', 'token', 'carol', ...inst.flags])).stdout.trim();

  const serve = await startServe(t, inst.flags);
  const url = serve.url;

  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/notifications`);
  const messages: Array<{ type: string; title?: string; table?: string }> = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as { type: string }));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'auth', token }));
  for (let i = 0; i < 100 && !messages.some((m) => m.type === 'auth_ok'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(messages.some((m) => m.type === 'auth_ok'), JSON.stringify(messages));

  assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
  for (let i = 0; i < 200 && !messages.some((m) => m.table === 'orders'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(messages.some((m) => m.type === 'notification' && m.table === 'orders'), JSON.stringify(messages));
  assert.ok(!messages.some((m) => m.table === 'credit'), 'a private table is not announced to a plain analyst');
  ws.close();

  // The private table fails now; anonymous /health does not name it, a privileged analyst sees it.
  await inst.writeCsv('credit.csv', 'id,limit\n1\n2,3,4\n');
  await runCli(['sync', ...inst.flags]);
  const anonymous = await (await fetch(`${url}/health`)).json() as { reasons: string[]; checks: { tables: Record<string, unknown> } };
  assert.ok(!JSON.stringify(anonymous).includes('credit'), JSON.stringify(anonymous));
  assert.ok(anonymous.reasons.some((r) => /problem with restricted tables/.test(r)));
  const full = await (await fetch(`${url}/health`, { headers: { authorization: `Bearer ${privileged}` } })).json() as { checks: { tables: Record<string, unknown> } };
  assert.ok(full.checks.tables.credit);
  await serve.stop();
});
