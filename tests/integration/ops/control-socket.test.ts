import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { it } from 'node:test';
import { ControlClient } from '../../../ops/control/client.ts';
import { serveControl } from '../../helpers/broker.ts';
import { ordersInstance } from '../../helpers/instance.ts';

function request(socketPath: string, method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { code?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: url, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { code?: string } }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

it('the control socket validates every request body by schema and answers errors in one shape', { timeout: 60_000 }, async (t) => {
  const inst = await ordersInstance(t, 'id\n1\n');
  const { socket } = await serveControl(t, inst);
  assert.equal(((await stat(socket)).mode & 0o777).toString(8), '600');

  const cases: Array<[string, string, string | undefined, number, string]> = [
    ['POST', '/sync', JSON.stringify({ tables: 'orders' }), 400, 'BAD_REQUEST'],
    ['POST', '/sync', JSON.stringify({ tables: ['orders'], extra: 1 }), 400, 'BAD_REQUEST'],
    ['POST', '/sync', '{not json', 400, 'BAD_REQUEST'],
    ['POST', '/sync', JSON.stringify({ tables: ['nope'] }), 400, 'BAD_ARGUMENT'],
    ['POST', '/events', JSON.stringify({ events: [{ type: 'AnalystAdded', data: {} }] }), 400, 'BAD_REQUEST'],
    ['POST', '/analysts', JSON.stringify({ name: 'bob', role: 'superuser' }), 400, 'BAD_REQUEST'],
    ['GET', '/nowhere', undefined, 404, 'NOT_FOUND'],
  ];
  for (const [method, url, body, status, code] of cases) {
    const answer = await request(socket, method, url, body, { 'x-ada-source': 'cli:test' });
    assert.deepEqual([answer.status, answer.body.code], [status, code], `${method} ${url} ${body}: ${answer.body.message}`);
  }
  const noSource = await request(socket, 'GET', '/analysts');
  assert.equal(noSource.status, 400, 'analyst changes name the asking command');

  const client = (await ControlClient.connect(inst.dataDir, 'cli:analyst'))!;
  assert.deepEqual(await client.analysts.add({ name: 'bob', role: 'analyst' }), { name: 'bob', role: 'analyst' });
  await assert.rejects(client.analysts.add({ name: 'bob', role: 'analyst' }), (err: Error & { code?: string }) => err.code === 'ANALYST_EXISTS' && !/running server/.test(err.message));
  const [outcome] = await client.sync({ tables: ['orders'] });
  assert.deepEqual([outcome!.table, outcome!.status, outcome!.rows], ['orders', 'succeeded', 1]);
});
