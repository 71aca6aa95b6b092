/**
 * Partition benchmark: a table of 5M rows partitioned by month (60 partitions) gets a 100k-row delta in its last two
 * months (half updates, half new ids), synced by `ada serve` (through its control socket, no process start) and by a
 * one-off `ada sync`, against the naive rewrite of every partition with a bare DuckDB anti join in the same run.
 * Besides the times it shows what was read: the bytes each process read (rchar) and how many of the untouched
 * partition files were opened at all (their access time, reset before each round). `BENCH_SCALE` scales the rows.
 */
import { copyFile, link, mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLogReader } from '../events/index.ts';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { ControlClient } from '../ops/control/client.ts';
import { BENCH_DIR, cpuMsOf, csvInstance, readBytesOf, report, round, runAdaSync, scratch, seconds, startAdaServe, syncPhases, timed } from './util.ts';
import type { CsvInstance, Figures, SyncRun } from './util.ts';

/** Goals of the figures (issue 14): `min` means at least, `max` at most. */
export const goals: Record<string, { min?: number; max?: number }> = {
  'sync_partitions.serve_speedup': { min: 5 },
  'sync_partitions.cli_speedup': { min: 3 },
  'sync_partitions.untouched_opened': { max: 0 },
  'sync_partitions.peak_rss_mb': { max: 1024 },
};

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
if (!(SCALE > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
const ROWS = Math.max(10_000, Math.round(5_000_000 * SCALE));
const DELTA = Math.max(1000, Math.round(100_000 * SCALE));
const REPEAT = Math.max(1, Math.round(Number(process.env.BENCH_REPEAT ?? 5)));
const TABLE = 'orders_part';

/** ts covers 60 months, 2021-01 to 2025-12, growing with id; the deltas touch 2025-11 and 2025-12. */
const START_S = Date.UTC(2021, 0, 1) / 1000;
const END_S = Date.UTC(2026, 0, 1) / 1000;
const CHANGED_FROM_S = Date.UTC(2025, 10, 1) / 1000;
const TOTAL_S = END_S - START_S;
/** First id whose ts falls in the changed months: ts(id) = START + floor((id - 1) * TOTAL / ROWS). */
const CHANGED_FROM_ID = Math.ceil((CHANGED_FROM_S - START_S) * ROWS / TOTAL_S) + 1;

const CATEGORIES = `['books', 'electronics', 'garden', 'toys', 'grocery', 'fashion', 'sports', 'beauty', 'home', 'auto', 'music', 'office']`;

/** The CSV columns of rows `id, ts_seconds` with values drawn from DuckDB's hash of (id, seed). */
function csvSelect(from: string, seed: number): string {
  return `SELECT id, strftime(to_timestamp(ts_s)::TIMESTAMP, '%Y-%m-%d %H:%M:%S') AS ts,
      ${CATEGORIES}[(hash(id, ${seed}) % 12)::INT + 1] AS category,
      ((hash(id, ${seed}, 1) % 500000) / 100)::DECIMAL(10, 2) AS amount,
      CASE WHEN hash(id, ${seed}, 2) % 20 = 0 THEN 'bulk parcel, ref ' ELSE 'standard order ref ' END || (hash(id, ${seed}, 3) % 1000000)::VARCHAR AS note
    FROM (${from}) ORDER BY id`;
}

async function withDuckDb<T>(fn: (run: (sql: string) => Promise<unknown[][]>) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return await fn(async (sql) => (await conn.runAndReadAll(sql)).getRows());
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const list = (files: string[]): string => `[${files.map(lit).join(', ')}]`;

/** The generated source CSV (cached in bench/.work/sync-partitions/). */
async function sourceCsv(): Promise<string> {
  const dir = path.join(BENCH_DIR, 'sync-partitions');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `orders-${ROWS}-v1.csv`);
  if (await stat(file).then(() => true, () => false)) return file;
  await withDuckDb((run) => run(`COPY (${csvSelect(`SELECT i AS id, ${START_S} + (i - 1) * ${TOTAL_S} // ${ROWS} AS ts_s FROM range(1, ${ROWS + 1}) t(i)`, 0)})
    TO ${lit(`${file}.tmp`)} (FORMAT csv, HEADER)`));
  await rm(file, { force: true });
  await rename(`${file}.tmp`, file);
  return file;
}

/** Delta number `round`: DELTA/2 updates of ids spread over the changed months (same ts, new values), then new ids in them. */
async function writeDelta(file: string, roundNo: number): Promise<void> {
  const updates = Math.floor(DELTA / 2);
  const inserts = DELTA - updates;
  const span = ROWS - CHANGED_FROM_ID + 1;
  const updated = `SELECT ${CHANGED_FROM_ID} + ((j * ${span}) // ${updates} + ${roundNo * 7}) % ${span} AS id FROM range(${updates}) t(j)`;
  const rows = `SELECT id, ${START_S} + (id - 1) * ${TOTAL_S} // ${ROWS} AS ts_s FROM (${updated})
    UNION ALL SELECT ${ROWS + roundNo * inserts + 1} + k AS id, ${CHANGED_FROM_S} + k * ${END_S - CHANGED_FROM_S} // ${inserts} AS ts_s FROM range(${inserts}) t(k)`;
  await withDuckDb((run) => run(`COPY (${csvSelect(rows, roundNo + 1)}) TO ${lit(file)} (FORMAT csv, HEADER)`));
}

type Instance = CsvInstance;

async function instance(root: string): Promise<Instance> {
  const inst = await csvInstance(root, 'Partition benchmark');
  await mkdir(path.join(inst.csvDir, 'parts'), { recursive: true });
  await writeFile(path.join(inst.configDir, 'data_description.md'), [
    '# Partition benchmark', '', '```yaml', 'tables:', `  - id: ${TABLE}`, `    name: ${TABLE}`, '    description: Generated orders',
    '    primary_key: id', '    sync_strategy: incremental', '    partition_by: ts', '    partition_granularity: month', '    file: "parts/*.csv"',
    '    columns:', '      - {name: id, type: INTEGER}', '      - {name: ts, type: TIMESTAMP}', '      - {name: category, type: STRING}',
    '      - {name: amount, type: NUMERIC}', '      - {name: note, type: STRING}', '```', '',
  ].join('\n'));
  return inst;
}

interface Published {
  files: Array<{ path: string; rows: number; bytes: number; sha256: string; partition?: string }>;
  rows: number;
  touchedPartitions?: string[];
}

async function published(inst: Instance): Promise<Published> {
  return JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'published', `${TABLE}.json`), 'utf8')) as Published;
}

/** Sets every partition file's access time a minute before its modification time, so a read (relatime) moves it. */
async function resetAccessTimes(inst: Instance, files: Published['files']): Promise<void> {
  for (const f of files) {
    const file = path.join(inst.dataDir, f.path);
    const s = await stat(file);
    await utimes(file, new Date(s.mtimeMs - 60_000), s.mtime);
  }
}

/** Files among `files` (all untouched by the run) whose access time moved since resetAccessTimes: they were read. */
async function opened(inst: Instance, files: Published['files']): Promise<number> {
  let n = 0;
  for (const f of files) {
    const s = await stat(path.join(inst.dataDir, f.path));
    if (s.atimeMs > s.mtimeMs - 60_000 + 1) n++;
  }
  return n;
}

/** The bare baseline: the delta applied by rewriting every partition (anti join, PARTITION_BY); time and bytes read. */
async function baseline(inst: Instance, delta: string, out: string): Promise<{ ms: number; readBytes: number }> {
  const old = (await published(inst)).files.map((f) => path.join(inst.dataDir, f.path));
  const before = readBytesOf('self');
  const { ms } = await timed(() => withDuckDb((run) => run(`COPY (SELECT *, strftime(ts, '%Y_%m') AS month FROM (SELECT o.* FROM read_parquet(${list(old)}) o `
    + `ANTI JOIN read_csv(${lit(delta)}) d ON o.id = d.id UNION ALL BY NAME SELECT * FROM read_csv(${lit(delta)}))) `
    + `TO ${lit(out)} (FORMAT parquet, PARTITION_BY (month))`)));
  const readBytes = readBytesOf('self') - before;
  await rm(out, { recursive: true, force: true });
  return { ms, readBytes };
}

interface Round {
  baseMs: number;
  /** From the start of the sync (process spawn, or the request to the server) until its TablePublished event. */
  publishedMs: number;
  baseReadBytes: number;
  ms: number;
  readBytes: number;
  untouchedBytes: number;
  untouchedOpened: number;
  phases: string;
  rssMb: number;
  /** CPU of the sync: the one-off process's whole life, or the server's from the request to the answer. */
  cpuMs?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs one round: a delta file, the baseline, then `sync` (which returns its run), checking rows and what changed. */
async function oneRound(inst: Instance, roundNo: number, sync: () => Promise<{ ms: number; readBytes: number; run: SyncRun; rssMb: number; cpuMs?: number }>): Promise<Round> {
  const delta = path.join(inst.csvDir, 'parts', `${String(roundNo + 1).padStart(3, '0')}-delta.csv`);
  await writeDelta(delta, roundNo);
  const base = await baseline(inst, delta, path.join(inst.root, 'baseline'));
  const before = await published(inst);
  await resetAccessTimes(inst, before.files);
  const ours = await sync();
  const after = await published(inst);
  const expected = ROWS + (roundNo + 1) * (DELTA - Math.floor(DELTA / 2));
  if (after.rows !== expected) throw new Error(`round ${roundNo + 1}: ${after.rows} rows published, expected ${expected}`);
  const touched = new Set(after.touchedPartitions ?? []);
  if (touched.size !== 2) throw new Error(`round ${roundNo + 1}: touched partitions ${[...touched].join(', ')}, expected the last two months`);
  const untouched = before.files.filter((f) => !touched.has(f.partition ?? ''));
  const afterByPath = new Map(after.files.map((f) => [f.path, f]));
  if (untouched.some((f) => afterByPath.get(f.path)?.sha256 !== f.sha256)) throw new Error(`round ${roundNo + 1}: an untouched partition changed`);
  const p = await syncPhases(inst.dataDir, ours.run);
  return {
    publishedMs: p.startupMs + p.stageMs + p.publishMs,
    baseMs: base.ms, baseReadBytes: base.readBytes, ms: ours.ms, readBytes: ours.readBytes, rssMb: ours.rssMb,
    ...(ours.cpuMs !== undefined ? { cpuMs: ours.cpuMs } : {}),
    untouchedBytes: untouched.reduce((n, f) => n + f.bytes, 0),
    untouchedOpened: await opened(inst, untouched),
    phases: `trigger ${seconds(p.startupMs)}, stage ${seconds(p.stageMs)}, publish ${seconds(p.publishMs)}, finish ${seconds(p.finishMs)}`,
  };
}

/** Waits until the server's profiler has profiled the last publish (it runs in the background after a sync). */
async function profiled(inst: Instance): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const events = await lastValueFrom(new EventLogReader(path.join(inst.dataDir, 'events')).read$(1).pipe(toArray()));
    const lastPublished = events.findLastIndex((e) => e.type === 'TablePublished');
    if (events.slice(lastPublished).some((e) => e.type === 'TableProfiled' || e.type === 'TableProfileFailed')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * One round through `ada serve`: the server is started (it holds the log) and has profiled the table, the sync goes
 * through its control socket, timed from the request to the answer; then the server is stopped (a one-off `ada sync`
 * needs the log's lock).
 */
async function servedRound(inst: Instance, roundNo: number): Promise<Round> {
  let client: ControlClient | undefined;
  const server = await startAdaServe(inst, async () => (client = await ControlClient.connect(inst.dataDir, 'bench')) !== undefined);
  try {
    await profiled(inst);
    return await oneRound(inst, roundNo, async () => {
      const bytesBefore = readBytesOf(server.pid);
      const cpuBefore = cpuMsOf(server.pid);
      const startedAt = Date.now();
      const { result, ms } = await timed(() => client!.sync({ tables: [TABLE] }));
      const readBytes = readBytesOf(server.pid) - bytesBefore;
      const cpuMs = cpuMsOf(server.pid) - cpuBefore;
      const endedAt = Date.now();
      const outcome = result[0];
      if (outcome?.status !== 'succeeded') throw new Error(`sync through ada serve failed: ${JSON.stringify(outcome)}`);
      const res: SyncRun = { ms, rssMb: server.peakRssMb(), rows: outcome.rows, runId: outcome.runId, startedAt, endedAt, output: '' };
      return { ms, readBytes, run: res, rssMb: res.rssMb, cpuMs };
    });
  } finally {
    // The server profiles the table in the background after a sync; it finishes that before it exits.
    await server.stop();
  }
}

function summary(rounds: Round[]): { ms: number; publishedMs: number; speedup: number; publishedSpeedup: number; readMb: number; phases: string; cpuS: number } {
  const ms = median(rounds.map((r) => r.ms));
  const mid = [...rounds].sort((a, b) => Math.abs(a.ms - ms) - Math.abs(b.ms - ms))[0]!;
  if (process.env.BENCH_VERBOSE) for (const r of rounds) process.stderr.write(`baseline ${round(r.baseMs)} ms, ours ${round(r.ms)} ms (${r.phases}), cpu ${round(r.cpuMs ?? NaN)} ms, read ${round(r.readBytes / 1e6)} MB\n`);
  return {
    ms, publishedMs: median(rounds.map((r) => r.publishedMs)),
    speedup: median(rounds.map((r) => r.baseMs / r.ms)), publishedSpeedup: median(rounds.map((r) => r.baseMs / r.publishedMs)),
    readMb: median(rounds.map((r) => r.readBytes)) / 1e6, phases: mid.phases, cpuS: median(rounds.map((r) => r.cpuMs ?? NaN)) / 1000,
  };
}

/** Runs the benchmark and returns its figures. */
export async function run(): Promise<Figures> {
  const source = await sourceCsv();
  const work = await scratch('sync-partitions/run');
  const inst = await instance(work);
  const initial = path.join(inst.csvDir, 'parts', '000-initial.csv');
  await link(source, initial).catch(() => copyFile(source, initial));
  const first = await runAdaSync(inst);
  const firstState = await published(inst);
  if (firstState.rows !== ROWS) throw new Error(`first sync published ${firstState.rows} rows, expected ${ROWS}`);
  let roundNo = 0;

  // The two ways alternate, one round each (C S, then S C, ...): every round adds rows to the two touched partitions,
  // so running all of one way first would give the other way bigger merges (about 1.8 times the rows at 5 rounds).
  const cli: Round[] = [];
  const serve: Round[] = [];
  for (let r = 0; r < REPEAT; r++) {
    for (const way of r % 2 === 0 ? ['cli', 'serve'] : ['serve', 'cli']) {
      if (way === 'cli') {
        // A one-off `ada sync` process; runAda's probe reports its bytes read at exit.
        cli.push(await oneRound(inst, roundNo++, async () => {
          const res = await runAdaSync(inst);
          return { ms: res.ms, readBytes: (res.readMb ?? NaN) * 1e6, run: res, rssMb: res.rssMb, ...(res.cpuMs !== undefined ? { cpuMs: res.cpuMs } : {}) };
        }));
      } else {
        serve.push(await servedRound(inst, roundNo++));
      }
    }
  }

  const c = summary(cli);
  const s = summary(serve);
  const all = [...cli, ...serve];
  const figures: Figures = [
    ['sync_partitions.rows', ROWS],
    ['sync_partitions.partitions', firstState.files.length],
    ['sync_partitions.delta_rows', DELTA],
    ['sync_partitions.repeat', REPEAT],
    ['sync_partitions.first_sync_s', first.ms / 1000],
    ['sync_partitions.baseline_s', median(all.map((r) => r.baseMs)) / 1000],
    // Through the server, until the data is published (TablePublished); then until the control socket answers (the
    // projections' catch-up and the health check after it).
    ['sync_partitions.serve_s', s.publishedMs / 1000],
    ['sync_partitions.serve_speedup', s.publishedSpeedup],
    ['sync_partitions.serve_answer_s', s.ms / 1000],
    ['sync_partitions.serve_answer_speedup', s.speedup],
    ['sync_partitions.serve_phases', s.phases],
    // CPU, less at the mercy of the machine's load than the times: the server's from the request to the answer (all
    // threads: staging, DuckDB's merges, the journal), the one-off process's whole life (its start-up included).
    ['sync_partitions.serve_cpu_s', s.cpuS],
    ['sync_partitions.cli_s', c.ms / 1000],
    ['sync_partitions.cli_speedup', c.speedup],
    ['sync_partitions.cli_phases', c.phases],
    ['sync_partitions.cli_cpu_s', c.cpuS],
    ['sync_partitions.untouched_mb', median(all.map((r) => r.untouchedBytes)) / 1e6],
    // One-off syncs only: the server profiles the table right after a sync, which reads every partition.
    ['sync_partitions.untouched_opened', Math.max(...cli.map((r) => r.untouchedOpened))],
    ['sync_partitions.baseline_read_mb', median(all.map((r) => r.baseReadBytes)) / 1e6],
    ['sync_partitions.serve_read_mb', s.readMb],
    ['sync_partitions.cli_read_mb', c.readMb],
    ['sync_partitions.peak_rss_mb', Math.max(first.rssMb, ...all.map((r) => r.rssMb))],
    ['sync_partitions.peak_rss_by_case_mb', `first ${round(first.rssMb)}, cli ${round(Math.max(...cli.map((r) => r.rssMb)))}, serve ${round(Math.max(...serve.map((r) => r.rssMb)))}`],
  ];
  if (!process.env.BENCH_KEEP) await rm(work, { recursive: true, force: true });
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
