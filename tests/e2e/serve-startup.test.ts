import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { EventLog } from '../../events/index.ts';
import { ADA_BIN, runCli, spawnCli, startServe } from '../helpers/cli.ts';
import { csvInstance } from '../helpers/instance.ts';
import type { TestInstance } from '../helpers/instance.ts';

const TABLE = `  - id: csv.shop.orders
    name: orders
    description: Orders
    file: orders.csv
`;

async function instance(t: TestContext): Promise<TestInstance> {
  const inst = await csvInstance(t, TABLE);
  await inst.writeCsv('orders.csv', 'id\n1\n');
  return inst;
}

/** After a failed start: no control socket left, and the log's writer lock is free for the next command. */
async function assertReleased(inst: TestInstance): Promise<void> {
  await assert.rejects(stat(path.join(inst.dataDir, 'run', 'ada.sock')), 'no control socket is left behind');
  const next = await runCli(['analyst', 'list', ...inst.flags]);
  assert.equal(next.code, 0, `the log lock is released: ${next.stderr}`);
}

describe('ada serve start-up failures exit 1 with a clear message and release everything', () => {
  it('a port in use names the port and what to do', { timeout: 90_000 }, async (t) => {
    const inst = await instance(t);
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => taken.close());
    const port = (taken.address() as net.AddressInfo).port;
    // A hang would end in the helper's timeout (exit code -1), not 1.
    const result = await spawnCli(['serve', '--port', String(port), ...inst.flags], { timeoutMs: 60_000 });
    assert.equal(result.code, 1, result.stderr + result.stdout);
    assert.match(result.stderr, new RegExp(`\\[PORT_IN_USE\\] port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(result.stderr, /--port/);
    await assertReleased(inst);
  });

  it('a host that is not an address of this machine says so', { timeout: 90_000 }, async (t) => {
    const inst = await instance(t);
    // 203.0.113.0/24 is TEST-NET-3: never assigned to a local interface, so binding fails without any traffic.
    const result = await spawnCli(['serve', '--port', '0', '--host', '203.0.113.7', ...inst.flags], { timeoutMs: 60_000 });
    assert.equal(result.code, 1, result.stderr + result.stdout);
    assert.match(result.stderr, /\[BAD_HOST\] cannot listen on 203\.0\.113\.7/);
    assert.match(result.stderr, /--host/);
    await assertReleased(inst);
  });

  it('a log held by another process fails with LOCKED at once', { timeout: 90_000 }, async (t) => {
    const inst = await instance(t);
    const log = await EventLog.open(path.join(inst.dataDir, 'events'), { logger: { warn: () => undefined } });
    const result = await spawnCli(['serve', '--port', '0', ...inst.flags], { timeoutMs: 60_000 });
    await log.close();
    assert.equal(result.code, 1, result.stderr + result.stdout);
    assert.match(result.stderr, /\[LOCKED\] the event log .* is locked by process/);
    await assertReleased(inst);
  });

  it('without a control socket the server still runs, says so, and stops on SIGTERM', { timeout: 90_000 }, async (t) => {
    const inst = await instance(t);
    await mkdir(inst.dataDir, { recursive: true });
    // The socket's directory cannot be created where a file stands.
    await writeFile(path.join(inst.dataDir, 'run'), 'not a directory');
    const child = spawn(process.execPath, [ADA_BIN, 'serve', '--port', '0', ...inst.flags], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/on http:\/\/127\.0\.0\.1:\d+/.test(out)) resolve();
      });
      void exited.then((code) => reject(new Error(`serve exited with ${code}: ${out}`)));
    });
    assert.match(out, /control socket unavailable/);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal((await runCli(['analyst', 'list', ...inst.flags])).code, 0, 'the log lock is released');
  });
});

describe('ada serve logging', () => {
  it('writes JSON lines with request ids, and no credential of a request', { timeout: 90_000 }, async (t) => {
    const inst = await instance(t);
    const serve = await startServe(t, inst.flags);
    let out = '';
    serve.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const secret = 'ada_secret-token-value-0123456789';
    await fetch(`${serve.url}/health`, { headers: { authorization: `Bearer ${secret}`, cookie: `session=${secret}` } });
    assert.equal(await serve.stop(), 0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { reqId?: string; msg?: string; req?: { url?: string } });
    assert.ok(lines.some((l) => l.reqId && l.req?.url === '/health'), out);
    assert.ok(lines.some((l) => l.msg === 'stopping…'), out);
    assert.ok(!out.includes(secret), 'the token is not logged');
  });
});
