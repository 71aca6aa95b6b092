/**
 * Replay at scale: a data directory holding the full history of an incremental CSV table (a full refresh of 1M rows,
 * then syncs of a delta file each), rebuilt by `ada replay` (every projection, as a child process), against the
 * time of the table's last sync alone (`ada sync`, a child process too) in the same run. `BENCH_REPLAY_SYNCS`
 * (default 100) is the number of syncs in the history, `BENCH_SCALE` scales the rows, `BENCH_REPEAT` (default 3)
 * how many of the last syncs and of the replays are timed (figures are medians). Before the replays `ada profile` profiles
 * the table once, as a server does after each sync: a replay keeps that profile when its inputs did not change
 * (`replay.profiles_kept`). Builds dist/ first (`npm run build`,
 * as users run it; `BENCH_NO_BUILD=1` skips it), so neither command pays for compiling TypeScript on start.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { lastValueFrom, toArray } from 'rxjs';
import { ConnectorRegistry, loadConfig } from '../connectors/index.ts';
import { EventLogReader, hashFile } from '../events/index.ts';
import { Broker } from '../pipeline/index.ts';
import { adaJson, csvInstance, median, report, round, runAda, runAdaSync, scratch, seconds, timed } from './util.ts';
import type { CsvInstance, Figures, SyncRun } from './util.ts';

/** Goals of the figures (from the issue): `min` means at least, `max` at most. */
export const goals: Record<string, { min?: number; max?: number }> = {
  'replay.ratio': { max: 2 },
  'replay.peak_rss_mb': { max: 1024 },
};

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
if (!(SCALE > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
const SYNCS = Number(process.env.BENCH_REPLAY_SYNCS ?? 100);
if (!(Number.isInteger(SYNCS) && SYNCS >= 2)) throw new Error(`BENCH_REPLAY_SYNCS must be an integer of at least 2, got ${process.env.BENCH_REPLAY_SYNCS}`);
const REPEAT = Math.min(SYNCS - 1, Math.max(1, Number(process.env.BENCH_REPEAT ?? 3)));
/** Rows of the full refresh (1M at scale 1). */
const ROWS = Math.max(1000, Math.round(1_000_000 * SCALE));
/** Rows of each delta file (1% of the table): half updates of ids spread over the table, half new ids. */
const DELTA = Math.max(20, Math.round(10_000 * SCALE));
const VERBOSE = process.env.BENCH_VERBOSE === '1';

const TABLE = 'events';
const COLUMNS = `    columns:
      - {name: id, type: BIGINT}
      - {name: ts, type: TIMESTAMP}
      - {name: category, type: STRING}
      - {name: amount, type: DOUBLE}
      - {name: note, type: STRING}
`;

type Instance = CsvInstance;

async function instance(root: string): Promise<Instance> {
  const inst = await csvInstance(root, 'Replay benchmark');
  const { configDir } = inst;
  await writeFile(path.join(configDir, 'data_description.md'), `# Replay benchmark\n\n\`\`\`yaml\ntables:\n  - id: ${TABLE}\n    name: ${TABLE}\n`
    + `    description: Generated events, synced incrementally\n    primary_key: id\n    sync_strategy: incremental\n    file: "${TABLE}/*.csv"\n${COLUMNS}\`\`\`\n`);
  return inst;
}

/** The rows of one file: ids from an SQL expression over `range(n)` as `i`; the other columns derive from id and `salt`. */
function rowsSql(n: number, idExpr: string, salt: number): string {
  return `SELECT ${idExpr} AS id,
      TIMESTAMP '2021-01-01' + to_seconds((${idExpr}) * 97) AS ts,
      ['books', 'toys', 'garden', 'music', 'home', 'auto'][1 + (hash(${idExpr}, ${salt}) % 6)::INTEGER] AS category,
      round((hash(${idExpr}, ${salt} + 1) % 500000) / 100.0, 2) AS amount,
      'note ' || (hash(${idExpr}, ${salt} + 2) % 1000000)::VARCHAR || CASE WHEN ${idExpr} % 20 = 0 THEN ', with a comma' ELSE '' END AS note
    FROM range(${n}) r(i)`;
}

/** Writes the full-refresh file and the delta files of syncs 2…SYNCS with DuckDB. */
async function writeCsvs(inst: Instance): Promise<void> {
  const dir = path.join(inst.csvDir, TABLE);
  await mkdir(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const copy = (select: string, file: string) => conn.run(`COPY (${select}) TO '${file}' (FORMAT csv, HEADER)`);
  try {
    await copy(rowsSql(ROWS, 'i + 1', 0), path.join(dir, 'sync-0001.csv'));
    const half = Math.floor(DELTA / 2);
    for (let k = 2; k <= SYNCS; k++) {
      // Updates: ids spread over the whole table by a stride coprime with ROWS; then new ids after all earlier ones.
      const updates = rowsSql(half, `((${k} * 104729 + i * 7919) % ${ROWS}) + 1`, k);
      const inserts = rowsSql(DELTA - half, `${ROWS} + ${(k - 2) * (DELTA - half)} + i + 1`, k);
      await copy(`${updates} UNION ALL ${inserts}`, path.join(dir, `sync-${String(k).padStart(4, '0')}.csv`));
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Syncs 1…`count` in this process (the history the timed runs stand on), each with one more file in the glob. */
async function buildHistory(inst: Instance, count: number): Promise<void> {
  const config = await loadConfig({ configDir: inst.configDir, env: {} });
  const quiet = { info: () => undefined, warn: (m: string) => process.stderr.write(`${m}\n`), error: (m: string) => process.stderr.write(`${m}\n`) };
  const broker = await Broker.open({ config, dataDir: inst.dataDir, connectors: (c) => new ConnectorRegistry(c), eventSource: 'bench', logger: quiet });
  try {
    for (let k = 1; k <= count; k++) {
      await showFiles(inst, k);
      const [outcome] = await broker.sync({ tables: [TABLE] });
      if (outcome?.status !== 'succeeded') throw new Error(`history sync ${k} failed: ${JSON.stringify(outcome)}`);
      if (VERBOSE) process.stdout.write(`  history sync ${k}/${SYNCS}\n`);
    }
  } finally {
    await broker.close();
  }
}

const fileOf = (inst: Instance, k: number, ext: string): string => path.join(inst.csvDir, TABLE, `sync-${String(k).padStart(4, '0')}.${ext}`);

/** The CSV connector reads `events/*.csv`: the file of a later sync waits as `.hidden` until its sync shows it. */
async function showFiles(inst: Instance, k: number): Promise<void> {
  if (k > 1) await rename(fileOf(inst, k, 'hidden'), fileOf(inst, k, 'csv'));
}

async function hideLaterFiles(inst: Instance): Promise<void> {
  for (let k = 2; k <= SYNCS; k++) await rename(fileOf(inst, k, 'csv'), fileOf(inst, k, 'hidden'));
}

/** What one `ada replay --json` child process reported. */
interface ReplayRun {
  ms: number;
  rssMb: number;
  projections: Array<{ projection: string; durationMs: number }>;
  stderr: string;
}

/** Runs `ada replay --json` as a child process: its time, the time of each projection, and its peak RSS. */
async function runAdaReplay(inst: Instance): Promise<ReplayRun> {
  const run = await runAda(inst.root, ['replay', '--config', inst.configDir, '--data', inst.dataDir, '--json']);
  const json = adaJson<{ ok?: boolean; projections?: ReplayRun['projections'] }>('replay', run);
  if (!json.projections) throw new Error(`ada replay reported no projections:\n${run.stdout}`);
  return { ms: run.ms, rssMb: run.rssMb, projections: json.projections, stderr: run.stderr };
}

/** Profiles the table once (`ada profile`), as the server does after a sync: the profile a replay may keep. */
async function runAdaProfile(inst: Instance): Promise<void> {
  adaJson('profile', await runAda(inst.root, ['profile', '--config', inst.configDir, '--data', inst.dataDir, '--json']));
}

/** When the table's profile was computed (`profiled_at` in profiles.json). */
async function profiledAt(inst: Instance): Promise<string | undefined> {
  const doc = JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'profiles.json'), 'utf8')) as { tables: Record<string, { profiled_at?: string }> };
  return doc.tables[TABLE]?.profiled_at;
}

/** Fails the benchmark when the replayed table is not what the log announces: every file's bytes as its last `TablePublished` says, its rows as the live syncs left them. */
async function checkReplayed(inst: Instance, rows: number, run: ReplayRun): Promise<void> {
  if (/rebuilt with content hash/.test(run.stderr)) throw new Error(`the replay rebuilt other rows than the live syncs:\n${run.stderr}`);
  const events = await lastValueFrom(new EventLogReader(path.join(inst.dataDir, 'events')).read$(1).pipe(toArray()));
  const last = events.filter((e) => e.type === 'TablePublished' && e.data.table === TABLE).at(-1);
  if (last?.type !== 'TablePublished') throw new Error('no TablePublished');
  if (last.data.rows !== rows) throw new Error(`the replayed table has ${last.data.rows} rows, the last sync published ${rows}`);
  for (const f of last.data.files) {
    const h = await hashFile(path.join(inst.dataDir, f.path));
    if (h.sha256 !== f.sha256 || h.bytes !== f.bytes) throw new Error(`${f.path}: the log announces ${f.sha256} (${f.bytes} bytes), the file is ${h.sha256} (${h.bytes} bytes)`);
  }
}

export async function run(): Promise<Figures> {
  if (process.env.BENCH_NO_BUILD !== '1') execFileSync('npm', ['run', '--silent', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'ignore', 'inherit'] });
  const root = await scratch('replay');
  const inst = await instance(root);
  const { ms: generateMs } = await timed(async () => {
    await writeCsvs(inst);
    await hideLaterFiles(inst);
  });
  const { ms: historyMs } = await timed(() => buildHistory(inst, SYNCS - REPEAT));

  const syncs: SyncRun[] = [];
  for (let k = SYNCS - REPEAT + 1; k <= SYNCS; k++) {
    await showFiles(inst, k);
    syncs.push(await runAdaSync(inst));
    if (VERBOSE) process.stdout.write(`  timed sync ${k}/${SYNCS}: ${seconds(syncs.at(-1)!.ms)}\n`);
  }
  const rows = syncs.at(-1)!.rows;
  const published = await lastValueFrom(new EventLogReader(path.join(inst.dataDir, 'events')).read$(1).pipe(toArray()));
  const tableRows = published.filter((e) => e.type === 'TablePublished').at(-1);
  const liveRows = tableRows?.type === 'TablePublished' ? tableRows.data.rows : rows;

  await runAdaProfile(inst);
  const replays: ReplayRun[] = [];
  let profilesKept = 0;
  for (let r = 0; r < REPEAT; r++) {
    const profiled = await profiledAt(inst);
    const replay = await runAdaReplay(inst);
    await checkReplayed(inst, liveRows, replay);
    if (await profiledAt(inst) === profiled) profilesKept++;
    replays.push(replay);
    if (VERBOSE) process.stdout.write(`  replay ${r + 1}/${REPEAT}: ${seconds(replay.ms)}\n`);
  }

  const syncMs = median(syncs.map((s) => s.ms));
  const replayMs = median(replays.map((r) => r.ms));
  const typical = [...replays].sort((a, b) => a.ms - b.ms)[Math.floor(replays.length / 2)]!;
  const of = (name: string): number => typical.projections.find((p) => p.projection === name)?.durationMs ?? 0;
  const projected = typical.projections.reduce((n, p) => n + p.durationMs, 0);
  const others = projected - of('parquet') - of('profiler');
  return [
    ['replay.syncs', SYNCS],
    ['replay.rows', liveRows],
    ['replay.delta_rows', DELTA],
    ['replay.history_build_s', round((generateMs + historyMs) / 1000)],
    ['replay.last_sync_s', round(syncMs / 1000)],
    ['replay.replay_s', round(replayMs / 1000)],
    ['replay.ratio', round(replayMs / syncMs)],
    // The profiler's part of the replay (a sync from the command line does not profile); without it, the same work as the syncs.
    ['replay.ratio_without_profiler', round((typical.ms - of('profiler')) / syncMs)],
    // Replays that kept the table's profile (its files and the settings were unchanged), of BENCH_REPEAT.
    ['replay.profiles_kept', profilesKept],
    ['replay.peak_rss_mb', round(Math.max(...replays.map((r) => r.rssMb)))],
    ['replay.last_sync_peak_rss_mb', round(Math.max(...syncs.map((s) => s.rssMb)))],
    ['replay.phases', `startup+exit ${seconds(typical.ms - projected)}, parquet ${seconds(of('parquet'))}, profiler ${seconds(of('profiler'))}, other projections ${seconds(others)}`],
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
