import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, startServe } from '../helpers/cli.ts';
import { csvInstance } from '../helpers/instance.ts';

/** Reasons other than machine load (the test machine's load is not the code's business). */
function reasonsBesidesLoad(report: { reasons: string[] }): string[] {
  return report.reasons.filter((r) => !r.startsWith('load is '));
}

const TABLE = `  - id: csv.shop.orders
    name: orders
    description: Orders
    file: orders.csv
    columns:
      - {name: id, type: INTEGER}
`;

describe('health', () => {
  it('ada health goes degraded (exit 1) when a sync fails and healthy (exit 0) again after a good sync', async (t) => {
    const inst = await csvInstance(t, TABLE);
    const never = await runCli(['health', '--json', ...inst.flags]);
    assert.equal(never.code, 1, never.stdout + never.stderr);
    assert.match(JSON.parse(never.stdout).reasons.join('\n'), /orders: never synced/);
    await inst.writeCsv('orders.csv', 'id\n1\n');
    assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
    const healthy = await runCli(['health', '--json', ...inst.flags]);
    const report = JSON.parse(healthy.stdout) as { status: string; reasons: string[]; checks: { projections: Record<string, { lag: number }> } };
    assert.deepEqual(reasonsBesidesLoad(report), [], healthy.stdout);
    assert.equal(healthy.code, report.reasons.length ? 1 : 0);
    assert.ok(Object.values(report.checks.projections).every((p) => p.lag === 0), 'every projection caught up after ada sync');
    await inst.writeCsv('orders.csv', 'id\nnot-a-number\n');
    assert.equal((await runCli(['sync', ...inst.flags])).code, 1);
    const degraded = await runCli(['health', ...inst.flags]);
    assert.equal(degraded.code, 1);
    assert.match(degraded.stdout, /status: degraded/);
    assert.match(degraded.stdout, /orders: last sync failed: .*orders\.csv/);
    await inst.writeCsv('orders.csv', 'id\n2\n');
    assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
    const again = JSON.parse((await runCli(['health', '--json', ...inst.flags])).stdout) as { reasons: string[] };
    assert.deepEqual(reasonsBesidesLoad(again), []);
  });

  it('ada serve answers GET /health on 127.0.0.1 and stops cleanly on SIGINT', { timeout: 60_000 }, async (t) => {
    const inst = await csvInstance(t, TABLE);
    await inst.writeCsv('orders.csv', 'id\n1\n');
    assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
      const serve = await startServe(t, inst.flags);
    const url = serve.url;
    const res = await fetch(`${url}/health`);
    const body = await res.json() as { status: string; reasons: string[]; checks: { tables: Record<string, unknown>; timers: Record<string, unknown> } };
    assert.deepEqual(reasonsBesidesLoad(body), []);
    assert.equal(res.status, body.status === 'healthy' ? 200 : 503);
    assert.ok(body.checks.tables.orders);
    assert.ok(body.checks.timers['source:csv']);
    assert.equal(await serve.stop(), 0);
  });
});
