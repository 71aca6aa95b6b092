import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { hashFile } from '../../events/index.ts';
import { ADA_BIN, runCli } from '../helpers/cli.ts';
import { filesUnder, killWhen, publishedRows, SHOP_TABLES, shopCsv } from '../helpers/crash.ts';
import { csvInstance } from '../helpers/instance.ts';

const KILLS = 4;
const ROWS = 300_000;

async function checksums(dataDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await filesUnder(path.join(dataDir, 'parquet'))) out[path.relative(dataDir, f)] = (await hashFile(f)).sha256;
  return out;
}

it(`a replay killed with SIGKILL while it swaps tables in leaves every published table whole, and the next start finishes the swap (${KILLS} kills)`, { timeout: 240_000 }, async (t) => {
  const inst = await csvInstance(t, SHOP_TABLES);
  await inst.writeCsv('big.csv', shopCsv(ROWS, 'v1'));
  const first = await runCli(['sync', ...inst.flags]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const before = await checksums(inst.dataDir);
  // Without the writer's applied state every rebuilt file is swapped in (same bytes, new inodes): the swap is the work.
  const forgetApplied = (): Promise<void> => rm(path.join(inst.dataDir, 'metadata', 'published'), { recursive: true, force: true });

  await forgetApplied();
  const full = await new Promise<number | null>((resolve) => spawn(process.execPath, [ADA_BIN, 'replay', '--projection', 'parquet', ...inst.flags], { stdio: 'ignore' }).on('exit', resolve));
  assert.equal(full, 0);
  assert.deepEqual(await checksums(inst.dataDir), before);

  // Killed at a moment the replay itself reaches, not after a delay (which a loaded machine shifts): while it builds a
  // table aside (files under tmp/rebuild), and while it swaps one in (a publish journal exists), alternately.
  const building = (): boolean => existsSync(path.join(inst.dataDir, 'tmp', 'rebuild', 'parquet'));
  const swapping = (): boolean => {
    try {
      return readdirSync(path.join(inst.dataDir, 'parquet')).some((n) => n.startsWith('.publish-journal-'));
    } catch {
      return false;
    }
  };
  let kills = 0;
  for (let round = 0; round < KILLS; round++) {
    await forgetApplied();
    const child = spawn(process.execPath, [ADA_BIN, 'replay', '--projection', 'parquet', ...inst.flags], { stdio: 'ignore' });
    const reached = round % 2 === 0 ? building : swapping;
    const killed = await killWhen(child, reached);
    assert.deepEqual(await publishedRows(inst.dataDir), { big: ROWS, parts: ROWS }, `round ${round}: a table is not whole`);
    if (killed) kills++;
  }
  assert.ok(kills >= KILLS / 2, `only ${kills} of ${KILLS} replays were killed mid-work`);

  const last = await runCli(['replay', '--projection', 'parquet', ...inst.flags]);
  assert.equal(last.code, 0, last.stderr);
  assert.deepEqual(await checksums(inst.dataDir), before, 'the same bytes as published before');
  const leftovers = (await filesUnder(inst.dataDir)).filter((f) => /\.tmp-|publish-journal/.test(path.basename(f)) || f.includes(`${path.sep}tmp${path.sep}rebuild${path.sep}`));
  assert.deepEqual(leftovers, []);
});
