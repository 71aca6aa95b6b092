import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLogReader } from '../../events/index.ts';
import { ADA_BIN, runCli } from '../helpers/cli.ts';
import { filesUnder, killWhen, publishedRows, SHOP_TABLES, shopCsv } from '../helpers/crash.ts';
import { csvInstance } from '../helpers/instance.ts';

const KILLS = 6;

/** True while a run stages rows (its scratch folder exists). */
function staging(dataDir: string): boolean {
  try {
    return readdirSync(path.join(dataDir, 'tmp', 'runs')).length > 0;
  } catch {
    return false;
  }
}

/** True while a table is being published (a temp file or a publish journal in parquet/: their names start with a dot). */
function publishing(dataDir: string): boolean {
  try {
    return readdirSync(path.join(dataDir, 'parquet'), { recursive: true }).some((n) => /(^|\/)\./.test(String(n)));
  } catch {
    return false;
  }
}

it(`a sync killed with SIGKILL mid-table leaves the previous Parquet valid, and the next run completes and cleans up (${KILLS} kills)`, { timeout: 240_000 }, async (t) => {
  const inst = await csvInstance(t, SHOP_TABLES);
  await inst.writeCsv('big.csv', shopCsv(1000, 'old'));
  const first = await runCli(['sync', ...inst.flags]);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const oldRows = await publishedRows(inst.dataDir);
  assert.deepEqual(oldRows, { big: 1000, parts: 1000 });
  const NEW_ROWS = 1_000_000;
  await inst.writeCsv('big.csv', shopCsv(NEW_ROWS, 'new'));

  // How long a whole run takes on this machine, so the kills land inside one.
  const fullStart = performance.now();
  const full = await new Promise<number | null>((resolve) => spawn(process.execPath, [ADA_BIN, 'sync', ...inst.flags], { stdio: 'ignore' }).on('exit', resolve));
  assert.equal(full, 0);
  const runMs = performance.now() - fullStart;
  let kills = 0;
  for (let round = 0; round < KILLS; round++) {
    const child = spawn(process.execPath, [ADA_BIN, 'sync', ...inst.flags], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Two rounds in three kill at a moment the run itself reaches (staging a file; publishing one), which a loaded
    // machine cannot shift; the third at a random moment of a measured run (while starting, or between the tables).
    const reached = [staging, publishing, undefined][round % 3];
    const delay = Math.floor(runMs * (0.2 + Math.random() * 0.75));
    const killed = await killWhen(child, reached && (() => reached(inst.dataDir)), delay);
    const rows = await publishedRows(inst.dataDir);
    for (const table of ['big', 'parts'] as const) {
      assert.ok([oldRows[table], NEW_ROWS].includes(rows[table]), `round ${round}: ${table} has ${rows[table]} rows, neither the old nor the new version`);
    }
    if (killed) kills++;
  }
  assert.ok(kills >= KILLS / 2, `only ${kills} of ${KILLS} runs were killed mid-work`);

  const last = await runCli(['sync', ...inst.flags]);
  assert.equal(last.code, 0, last.stderr + last.stdout);
  assert.deepEqual(await publishedRows(inst.dataDir), { big: NEW_ROWS, parts: NEW_ROWS });
  const leftovers = (await filesUnder(inst.dataDir)).filter((f) => /\.tmp|\.partial|publish-journal/.test(path.basename(f)) || f.includes(`${path.sep}tmp${path.sep}runs${path.sep}`));
  assert.deepEqual(leftovers, [], 'the next run cleans up temp files');
  const events = await lastValueFrom(new EventLogReader(path.join(inst.dataDir, 'events')).read$(1).pipe(toArray()));
  const started = new Set(events.flatMap((e) => (e.type === 'SyncStarted' ? [e.data.runId] : [])));
  const ended = new Set(events.flatMap((e) => (e.type === 'SyncSucceeded' || e.type === 'SyncFailed' ? [e.data.runId] : [])));
  assert.deepEqual([...started].filter((r) => !ended.has(r)), [], 'every interrupted run is closed with SyncFailed');
  const verify = await runCli(['events', 'verify', '--data', inst.dataDir]);
  assert.equal(verify.code, 0, verify.stderr);
});
