import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, chmod, cp, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { ADA_BIN, runCli, startServe } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { startStallingProxy } from '../fixtures/distribution/stalling-proxy.ts';

const DEMO = fileURLToPath(new URL('../../examples/demo', import.meta.url));
const PRIVATE_TABLE = 'customer_credit';

interface PullJson { changed: boolean; downloaded: string[]; removed: string[]; kept: number; resumedBytes: number; tables: string[]; views: string[] | null }
interface LocalManifest { files: Array<{ path: string; sha256: string; table?: string }>; tables: Array<{ name: string }> }

async function pullJson(args: string[]): Promise<PullJson> {
  const r = await runCli(['pull', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as PullJson;
}

/** Every file under `dir` (following the `server` symlink), relative. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      const info = await stat(full);
      if (info.isDirectory()) await walk(full, path.join(rel, e.name));
      else out.push(path.join(rel, e.name));
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** Every server/ file matches the local manifest's checksums. */
async function assertServerWhole(dir: string): Promise<void> {
  const manifest = JSON.parse(await readFile(path.join(dir, '.ada', 'manifest.json'), 'utf8')) as LocalManifest;
  for (const f of manifest.files) {
    const sha = createHash('sha256').update(await readFile(path.join(dir, 'server', f.path))).digest('hex');
    assert.equal(sha, f.sha256, f.path);
  }
  assert.deepEqual((await listFiles(path.join(dir, 'server'))).sort(), manifest.files.map((f) => f.path).sort());
}

/** Opens the analyst's DuckDB file read-only and counts the rows of every view. */
async function countViews(dir: string): Promise<Record<string, number>> {
  const db = await DuckDBInstance.create(path.join(dir, 'user', 'duckdb', 'analytics.duckdb'), { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  try {
    const views = (await conn.runAndReadAll("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1")).getRowObjectsJS().map((r) => String(r.view_name));
    const counts: Record<string, number> = {};
    for (const v of views) counts[v] = Number((await conn.runAndReadAll(`SELECT count(*) AS n FROM "${v}"`)).getRowObjectsJS()[0]!.n);
    return counts;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

it('ada pull: analysts pull what they may see into DuckDB, incrementally, resumably, verified', { timeout: 240_000 }, async (t) => {
  const root = await tempDir(t, 'ada-distribution-');
  const configDir = path.join(root, 'config');
  await cp(DEMO, configDir, { recursive: true });
  const flags = ['--config', configDir, '--data', path.join(root, 'data')];
  assert.equal((await runCli(['sync', ...flags])).code, 0);
  const token: Record<string, string> = {};
  for (const [name, extra] of [['bob', []], ['carol', ['--private']]] as const) {
    assert.equal((await runCli(['analyst', 'add', name, ...extra, ...flags])).code, 0);
    token[name] = (await runCli(['analyst', 'token', name, ...flags])).stdout.trim();
    for (const d of ['sales', 'web']) assert.equal((await runCli(['analyst', 'subscribe', name, d, ...flags])).code, 0);
  }
  const serve = await startServe(t, flags);
  const bob = path.join(root, 'bob');
  const carol = path.join(root, 'carol');
  // The broker profiles the synced tables in the background after it starts; wait for that, so the
  // no-op pull below has nothing new to fetch (bounded by the test's timeout, not a clock).
  for (;;) {
    const res = await fetch(`${serve.url}/api/v1/files/metadata/profiles.json`, { headers: { authorization: `Bearer ${token.carol}` } });
    const profiled = res.status === 200 ? Object.keys((await res.json() as { tables: Record<string, unknown> }).tables).length : 0;
    if (profiled === 6) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  // First pulls: each analyst gets a view per table they may see, and every view reads.
  const first = await pullJson(['--server', serve.url, '--token', token.bob!, '--dir', bob]);
  assert.ok(first.changed);
  assert.ok(!first.tables.includes(PRIVATE_TABLE));
  const bobCounts = await countViews(bob);
  assert.deepEqual(Object.keys(bobCounts).sort(), ['customers', 'order_lines', 'orders', 'products', 'web_events']);
  for (const [v, n] of Object.entries(bobCounts)) assert.ok(n > 0, `${v} has rows`);
  assert.equal(bobCounts.order_lines, 5844);
  assert.equal((await stat(path.join(bob, '.ada', 'settings.json'))).mode & 0o777, 0o600);
  await assertServerWhole(bob);
  for (const file of await listFiles(bob)) {
    if (file.endsWith('.duckdb')) continue;
    assert.ok(!(await readFile(path.join(bob, file), 'latin1')).includes(PRIVATE_TABLE), `${file} mentions the private table`);
    assert.ok(!file.includes(PRIVATE_TABLE), file);
  }
  const guide = await readFile(path.join(bob, 'CLAUDE.md'), 'utf8');
  assert.match(guide, /### order_lines/);
  assert.equal(await readFile(path.join(bob, 'AGENTS.md'), 'utf8'), guide);
  const mcp = JSON.parse(await readFile(path.join(bob, '.mcp.json'), 'utf8')) as { mcpServers: { ada: { args: string[] } } };
  assert.deepEqual(mcp.mcpServers.ada.args.slice(-3), ['mcp', '--dir', bob]);

  const carolFirst = await pullJson(['--server', serve.url, '--token', token.carol!, '--dir', carol]);
  assert.ok(carolFirst.tables.includes(PRIVATE_TABLE));
  const carolCounts = await countViews(carol);
  assert.ok(carolCounts[PRIVATE_TABLE]! > 0);
  assert.match(await readFile(path.join(carol, 'CLAUDE.md'), 'utf8'), /### customer_credit/);

  // The analyst's own files stay: user/ beyond the DuckDB file, CLAUDE.local.md.
  await writeFile(path.join(bob, 'CLAUDE.local.md'), 'my notes\n');
  await writeFile(path.join(bob, 'user', 'mine.sql'), 'SELECT 1;\n');

  // A second pull with nothing new: stored settings, nothing downloaded.
  const noop = await pullJson(['--dir', bob]);
  assert.equal(noop.changed, false);
  assert.deepEqual(noop.downloaded, []);

  // A table republished on the broker: the next pull downloads only its files (and the docs that describe it).
  await appendFile(path.join(configDir, 'csv', 'products.csv'), '999,ACM-TST-999,Test tent,Tents,99.00,2025-01-01,false\n');
  const sync = await runCli(['sync', '--table', 'products', ...flags]);
  assert.equal(sync.code, 0, sync.stderr);
  const after = await pullJson(['--dir', bob]);
  assert.ok(after.changed);
  const parquet = after.downloaded.filter((p) => p.endsWith('.parquet'));
  assert.deepEqual(parquet, ['parquet/sales/products.parquet'], after.downloaded.join(', '));
  assert.ok(after.downloaded.every((p) => p.endsWith('.parquet') || p.startsWith('docs/') || p.startsWith('metadata/')), after.downloaded.join(', '));
  assert.equal((await countViews(bob)).products, bobCounts.products! + 1);
  assert.equal(await readFile(path.join(bob, 'CLAUDE.local.md'), 'utf8'), 'my notes\n');
  assert.equal(await readFile(path.join(bob, 'user', 'mine.sql'), 'utf8'), 'SELECT 1;\n');

  // A tampered local file is detected and fetched again.
  const tampered = path.join(bob, 'server', 'parquet', 'sales', 'customers.parquet');
  await chmod(tampered, 0o644);
  await writeFile(tampered, 'not parquet');
  const repaired = await pullJson(['--dir', bob]);
  // Profiles finish in the background on the broker, so profiles.json may come along; no other Parquet does.
  assert.deepEqual(repaired.downloaded.filter((p) => p.endsWith('.parquet')), ['parquet/sales/customers.parquet']);
  await assertServerWhole(bob);

  // A pull killed mid-download leaves server/ whole, and the next one resumes.
  await appendFile(path.join(configDir, 'csv', 'customers.csv'), '9999,Late Comer,late@example.com,DE,Berlin,consumer,2025-01-01,yes,\n');
  assert.equal((await runCli(['sync', '--table', 'customers', ...flags])).code, 0);
  const before = await readlink(path.join(bob, 'server'));
  const proxy = await startStallingProxy(serve.url);
  t.after(() => proxy.close());
  const child = spawn(process.execPath, [ADA_BIN, 'pull', '--dir', bob, '--server', proxy.url], { stdio: 'ignore' });
  let childExited = false;
  const exited = new Promise((resolve) => child.on('exit', (code) => {
    childExited = true;
    resolve(code);
  }));
  // The partial download of the republished table is named by its new checksum.
  const current = await (await fetch(`${serve.url}/api/v1/manifest`, { headers: { authorization: `Bearer ${token.bob}` } })).json() as LocalManifest;
  const partial = path.join(bob, '.ada', 'partial', `${current.files.find((f) => f.path === 'parquet/sales/customers.parquet')!.sha256}.part`);
  let partialBytes = 0;
  // No time bound of its own (a loaded machine starts the child slowly): the proxy never lets the pull finish.
  while (partialBytes === 0 && !childExited) {
    await new Promise((r) => setTimeout(r, 20));
    partialBytes = await stat(partial).then((s) => s.size, () => 0);
  }
  assert.ok(partialBytes > 0, 'the pull started downloading');
  child.kill('SIGKILL');
  await exited;
  assert.equal(await readlink(path.join(bob, 'server')), before, 'server/ still points at the previous version');
  await assertServerWhole(bob);
  const resumed = await pullJson(['--dir', bob, '--server', serve.url]);
  assert.ok(resumed.resumedBytes > 0, JSON.stringify(resumed));
  await assertServerWhole(bob);
  assert.equal((await countViews(bob)).customers, bobCounts.customers! + 1);

  // A subscription change changes the next manifest: web's tables leave the copy and the views.
  assert.equal((await runCli(['analyst', 'unsubscribe', 'bob', 'web', ...flags])).code, 0);
  const unsubscribed = await pullJson(['--dir', bob]);
  assert.ok(unsubscribed.removed.some((p) => p.includes('web_events')), JSON.stringify(unsubscribed.removed));
  assert.ok(!('web_events' in await countViews(bob)));
  assert.ok(!(await listFiles(path.join(bob, 'server'))).some((f) => f.includes('web_events')));
  assert.doesNotMatch(await readFile(path.join(bob, 'CLAUDE.md'), 'utf8'), /### web_events/);

  // A revoked token is refused.
  assert.equal((await runCli(['analyst', 'token', 'bob', '--revoke', ...flags])).code, 0);
  const refused = await runCli(['pull', '--dir', bob]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /UNAUTHENTICATED/);
  await assertServerWhole(bob);
  assert.equal(await serve.stop(), 0);
});
