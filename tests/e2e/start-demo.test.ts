import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { query } from '../helpers/instance.ts';
import { tempDir } from '../helpers/tmp.ts';

const START = fileURLToPath(new URL('../../ops/start-demo.ts', import.meta.url));

it('npm start syncs the bundled demo and serves it (the README promise)', { timeout: 120_000 }, async (t) => {
  const data = path.join(await tempDir(t), 'data');
  const child = spawn(process.execPath, ['--import', 'tsx', START], { env: { ...process.env, DATA_DIR: data, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code}: ${out}`)));
  });
  assert.match(out, /6 of 6 table\(s\) synced/);
  const health = await (await fetch(`${url}/health`)).json() as { checks: { tables: Record<string, { freshness: string }> } };
  for (const table of ['customers', 'products', 'orders', 'order_lines', 'web_events']) {
    assert.equal(health.checks.tables[table]?.freshness, 'fresh', table);
  }
  const lines = await query(`SELECT count(*) AS n, count(DISTINCT order_id) AS orders FROM read_parquet('${data}/parquet/sales/order_lines/*.parquet')`);
  assert.equal(lines[0]!.n, 5844);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});
