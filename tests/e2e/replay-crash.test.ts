import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { hashFile } from '../../events/index.ts';
import { ADA_BIN, runCli } from '../helpers/cli.ts';
import { csvInstance, query } from '../helpers/instance.ts';

const KILLS = 4;
const ROWS = 300_000;

const TABLES = `  - id: csv.shop.big
    name: big
    description: A full-refresh table
    primary_key: id
    file: big.csv
    columns:
      - {name: id, type: INTEGER}
      - {name: ts, type: TIMESTAMP}
      - {name: note, type: STRING}
  - id: csv.shop.parts
    name: parts
    description: A partitioned table
    primary_key: id
    sync_strategy: partitioned
    partition_by: ts
    file: big.csv
    columns:
      - {name: id, type: INTEGER}
      - {name: ts, type: TIMESTAMP}
      - {name: note, type: STRING}
`;

function csv(rows: number): string {
  const out = ['id,ts,note'];
  for (let i = 0; i < rows; i++) out.push(`${i},2024-${String((i % 12) + 1).padStart(2, '0')}-0${(i % 9) + 1} 12:00:00,row ${i}`);
  return `${out.join('\n')}\n`;
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  return out.sort();
}

async function checksums(dataDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await files(path.join(dataDir, 'parquet'))) out[path.relative(dataDir, f)] = (await hashFile(f)).sha256;
  return out;
}

/** Rows of each table as a reader sees them now; every Parquet file must be readable. */
async function publishedRows(dataDir: string): Promise<{ big: number; parts: number }> {
  const shop = path.join(dataDir, 'parquet', 'shop');
  for (const f of (await files(shop)).filter((x) => x.endsWith('.parquet'))) await query(`SELECT count(*) FROM read_parquet('${f}')`);
  const big = (await query(`SELECT count(*) AS n FROM '${shop}/big.parquet'`))[0]!.n as number;
  const parts = (await query(`SELECT count(*) AS n FROM read_parquet('${shop}/parts/*.parquet')`))[0]!.n as number;
  return { big, parts };
}

it(`a replay killed with SIGKILL while it swaps tables in leaves every published table whole, and the next start finishes the swap (${KILLS} kills)`, { timeout: 240_000 }, async (t) => {
  const inst = await csvInstance(t, TABLES);
  await inst.writeCsv('big.csv', csv(ROWS));
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
    const killed = await new Promise<boolean>((resolve) => {
      const poll = setInterval(() => { if (reached()) child.kill('SIGKILL'); }, 1);
      child.on('exit', (_code, signal) => { clearInterval(poll); resolve(signal === 'SIGKILL'); });
    });
    assert.deepEqual(await publishedRows(inst.dataDir), { big: ROWS, parts: ROWS }, `round ${round}: a table is not whole`);
    if (killed) kills++;
  }
  assert.ok(kills >= KILLS / 2, `only ${kills} of ${KILLS} replays were killed mid-work`);

  const last = await runCli(['replay', '--projection', 'parquet', ...inst.flags]);
  assert.equal(last.code, 0, last.stderr);
  assert.deepEqual(await checksums(inst.dataDir), before, 'the same bytes as published before');
  const leftovers = (await files(inst.dataDir)).filter((f) => /\.tmp-|publish-journal/.test(path.basename(f)) || f.includes(`${path.sep}tmp${path.sep}rebuild${path.sep}`));
  assert.deepEqual(leftovers, []);
});
