import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, lstat, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ADA_BIN } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { csvInstance } from '../helpers/instance.ts';
import type { TestInstance } from '../helpers/instance.ts';

const TABLES = `  - id: csv.shop.orders
    name: orders
    description: Orders
    primary_key: id
    file: orders.csv
  - id: csv.shop.payroll
    name: payroll
    description: Salaries
    private: true
    file: payroll.csv
`;

/** Runs `ada …args` as a child under `umask 022`, the usual default that made every file readable by others. */
function adaUnderUmask022(args: string[], onStdout?: (text: string) => void): { done: Promise<CliResult>; kill: (sig: NodeJS.Signals) => void } {
  const child = spawn('/bin/sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, ADA_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    onStdout?.(stdout);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  return { done, kill: (sig) => child.kill(sig) };
}

/** Every entry under `dir` (itself included) whose mode is not 0700 (dirs) or 0600 (files). */
async function loose(dir: string): Promise<string[]> {
  const out: string[] = [];
  const check = async (file: string): Promise<void> => {
    const st = await lstat(file);
    if (st.isSymbolicLink() || st.isSocket()) return;
    const want = st.isDirectory() ? 0o700 : 0o600;
    if ((st.mode & 0o777) !== want) out.push(`${path.relative(dir, file) || '.'} ${(st.mode & 0o777).toString(8)}`);
  };
  await check(dir);
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) await check(path.join(e.parentPath, e.name));
  return out;
}

async function syncAndServe(inst: TestInstance): Promise<void> {
  const synced = await adaUnderUmask022(['sync', ...inst.flags]).done;
  assert.equal(synced.code, 0, synced.stderr + synced.stdout);
  let listening!: () => void;
  const up = new Promise<void>((resolve) => (listening = resolve));
  const serve = adaUnderUmask022(['serve', '--port', '0', ...inst.flags], (out) => {
    if (/on http:\/\/127\.0\.0\.1:\d+/.test(out)) listening();
  });
  await Promise.race([up, serve.done.then((r) => assert.fail(`serve exited: ${r.stderr}`))]);
  serve.kill('SIGINT');
  const stopped = await serve.done;
  assert.equal(stopped.code, 0, stopped.stderr);
}

describe('private files: the data dir is readable by its owner only', () => {
  it('with umask 022, every file under the data dir after a sync and a serve is 0600 and every dir 0700', { timeout: 120_000 }, async (t) => {
    const inst = await csvInstance(t, TABLES);
    await inst.writeCsv('orders.csv', 'id,amount\n1,10\n2,20\n');
    await inst.writeCsv('payroll.csv', 'name,salary\nAnna,100\n');
    await syncAndServe(inst);
    const files = await readdir(inst.dataDir, { recursive: true });
    assert.ok(files.some((f) => f.endsWith('.parquet')) && files.some((f) => f.startsWith('events')), files.join(', '));
    assert.deepEqual(await loose(inst.dataDir), []);
  });

  it('an existing data dir readable by others is tightened on start with one line saying so; health and config check warn about a readable .env and config dir', { timeout: 120_000 }, async (t) => {
    const inst = await csvInstance(t, TABLES);
    await inst.writeCsv('orders.csv', 'id,amount\n1,10\n');
    await inst.writeCsv('payroll.csv', 'name,salary\nAnna,100\n');
    await syncAndServe(inst);
    const entries = [inst.dataDir, ...(await readdir(inst.dataDir, { recursive: true })).map((f) => path.join(inst.dataDir, f))];
    // Hard links (a published file sharing its blob's inode) are one file with one mode: count inodes.
    const inodes = new Set<number>();
    for (const file of entries) {
      const st = await lstat(file);
      if (st.isSymbolicLink() || st.isSocket()) continue;
      await chmod(file, st.isDirectory() ? 0o755 : 0o644);
      inodes.add(st.ino);
    }
    const loosened = inodes.size;
    await writeFile(path.join(inst.configDir, '.env'), 'SOME_TOKEN=abc\n', { mode: 0o644 });
    await chmod(path.join(inst.configDir, '.env'), 0o644);
    await chmod(inst.configDir, 0o755);

    const health = await adaUnderUmask022(['health', ...inst.flags]).done;
    const lines = health.stderr.split('\n').filter((l) => l.startsWith('tightened permissions'));
    assert.equal(lines.length, 1, health.stderr);
    assert.match(lines[0]!, new RegExp(`^tightened permissions of ${loosened} entries under .*data \\(were readable by others\\)`));
    assert.deepEqual(await loose(inst.dataDir), []);
    assert.match(health.stderr, /warning: the secrets file .*\.env is readable by its group and every local user \(mode 0644\); run `chmod 600/);
    assert.match(health.stderr, /warning: the config dir .*config is readable by .*; run `chmod 700/);
    assert.doesNotMatch(health.stderr, /warning: the data dir/);

    const again = await adaUnderUmask022(['config', 'check', ...inst.flags]).done;
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /tightened/, 'nothing left to tighten');
    assert.match(again.stderr, /warning: the secrets file/);
    assert.match(again.stderr, /warning: the config dir/);

    await chmod(path.join(inst.configDir, '.env'), 0o600);
    await chmod(inst.configDir, 0o700);
    const quiet = await adaUnderUmask022(['config', 'check', ...inst.flags]).done;
    assert.doesNotMatch(quiet.stderr, /warning: the (secrets file|config dir|data dir)/, quiet.stderr);
  });
});
