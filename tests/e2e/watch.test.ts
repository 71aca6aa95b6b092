import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import type { TestContext } from 'node:test';
import { ADA_BIN, runCli, startServe } from '../helpers/cli.ts';
import { csvInstance, PUBLIC_AND_PRIVATE_TABLES, query } from '../helpers/instance.ts';
import { tempDir } from '../helpers/tmp.ts';

const TABLES = PUBLIC_AND_PRIVATE_TABLES;

/** A running `ada watch` whose output lines can be awaited. */
function startWatch(t: TestContext, args: string[]): { child: ChildProcess; out: string[]; waitFor(re: RegExp): Promise<string>; stop(): Promise<number | null> } {
  const child = spawn(process.execPath, [ADA_BIN, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: path.dirname(process.execPath) } });
  t.after(() => child.kill('SIGKILL'));
  const out: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
  const onLine = (line: string): void => {
    out.push(line);
    for (const w of [...waiters]) {
      if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buf = '';
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      lines.forEach(onLine);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => { if (signal) out.push(`signal ${signal}`); resolve(code); }));
  return {
    child, out,
    waitFor: (re) => {
      const seen = out.find((l) => re.test(l));
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

it('ada watch: prints updates of the analyst\'s tables, pulls on publish, resumes with since', { timeout: 180_000 }, async (t) => {
  const inst = await csvInstance(t, TABLES);
  await inst.writeCsv('orders.csv', 'id\n1\n');
  await inst.writeCsv('credit.csv', 'id,limit\n1,100\n');
  assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
  assert.equal((await runCli(['analyst', 'add', 'bob', ...inst.flags])).code, 0);
  const token = (await runCli(['analyst', 'token', 'bob', ...inst.flags])).stdout.trim();
  const serve = await startServe(t, inst.flags);
  const dir = path.join(await tempDir(t, 'ada-watch-'), 'bob');
  assert.equal((await runCli(['pull', '--server', serve.url, '--token', token, '--dir', dir])).code, 0);
  const duckdb = path.join(dir, 'user', 'duckdb', 'analytics.duckdb');
  const rows = async (): Promise<number> => Number((await query(`ATTACH '${duckdb}' AS a (READ_ONLY); SELECT count(*) AS n FROM a.orders`))[0]!.n);
  assert.equal(await rows(), 1);

  const watcher = startWatch(t, ['--pull', '--dir', dir]);
  await watcher.waitFor(/watching http/);
  await inst.writeCsv('orders.csv', 'id\n1\n2\n');
  await inst.writeCsv('credit.csv', 'id,limit\n1,100\n2,200\n');
  assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
  await watcher.waitFor(/pulled after orders was published/);
  assert.equal(await rows(), 2);
  assert.equal(await watcher.stop(), 0);
  assert.ok(!watcher.out.some((l) => l.includes('credit')), watcher.out.join('\n'));
  const saved = JSON.parse(await readFile(path.join(dir, '.ada', 'watch.json'), 'utf8')) as { position: number };
  assert.ok(saved.position > 0);

  // Updates while nobody watched arrive on the next start (resume with since).
  await inst.writeCsv('orders.csv', 'id\n1\n2\n3\n');
  assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
  const again = startWatch(t, ['--dir', dir]);
  await again.waitFor(/resuming after position/);
  await again.waitFor(/Table orders updated: 3 rows/);
  assert.equal(await again.stop(), 0, again.out.join('\n'));
  await serve.stop();
});
