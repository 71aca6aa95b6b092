/**
 * `npm run bench`: runs every benchmark module in bench/ (each exports `run(): Promise<Figures>` and optionally
 * `goals`) one after another, prints their `name: value` lines, and rewrites the figures section of
 * docs/benchmarks.md. Names on the command line (`npm run bench -- sync-csv`) run only those benchmarks; the other
 * benchmarks' sections of the document are kept. `BENCH_SCALE` (default 1) shrinks the sizes for a quick run;
 * `BENCH_REPLAY_SYNCS` sets the number of syncs in the replay benchmark's history (default 100).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { report, round } from './util.ts';
import type { Figures } from './util.ts';

/** A goal of one figure: at least `min`, at most `max`. */
export interface Goal {
  min?: number;
  max?: number;
}

export type Goals = Record<string, Goal>;

/** What a benchmark module exports. */
interface BenchModule {
  run(): Promise<Figures>;
  goals?: Goals;
}

/** Goals of benchmarks that do not export their own. */
const FALLBACK_GOALS: Record<string, Goals> = {
  'event-log': {
    'event_log.append_ratio': { min: 0.5 },
    'event_log.append_framed_ratio': { min: 0.8 },
    'event_log.append_events_per_s': { min: 500_000 },
    'event_log.replay_ratio': { min: 0.75 },
    'event_log.replay_peak_rss_mb': { max: 200 },
  },
};

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The document the figures go to: docs/benchmarks.md, or `BENCH_DOC` (a test's copy). */
const DOC = process.env.BENCH_DOC ? path.resolve(process.env.BENCH_DOC) : path.resolve(BENCH_DIR, '..', 'docs', 'benchmarks.md');
/** Files in bench/ that are not benchmarks. */
const NOT_BENCHMARKS = new Set(['run.ts', 'util.ts']);

const START = '<!-- figures:start (written by `npm run bench`; edit above this line) -->';
const END = '<!-- figures:end -->';
const sectionStart = (name: string) => `<!-- bench:${name} -->`;
const sectionEnd = (name: string) => `<!-- /bench:${name} -->`;

const INTRO = `# Benchmarks

Each benchmark compares a path of \`ada\` with the plainest way to do the same
work on the same machine in the same run (a bare \`write\` + \`fdatasync\`,
\`readline\` + \`JSON.parse\`, a bare DuckDB \`COPY\`), so the ratios say what our
layers cost, whatever the hardware.

Run all of them, which prints every figure as a \`name: value\` line and
rewrites the figures below:

\`\`\`sh
npm run bench                    # every benchmark in bench/, full size (a few minutes)
npm run bench -- sync-csv        # only the named benchmark(s); the others' figures stay
BENCH_SCALE=0.1 npm run bench    # a tenth of the data, for a quick check
\`\`\`

\`BENCH_SCALE\` (default 1) scales the data sizes: the event count of the event
log benchmark and the row counts of the CSV sync benchmark (5M rows and a
100k-row delta at 1). The goals are set for scale 1; smaller runs are dominated
by fixed costs such as process start-up. A benchmark also runs on its own
(\`npx tsx bench/sync-csv.ts\`). Scratch data goes to \`bench/.work/\`
(git-ignored; \`ADA_BENCH_DIR\` moves it); the generated CSV of the sync
benchmark is kept there between runs (\`BENCH_KEEP=1\` keeps the sync instances
too, \`BENCH_VERBOSE=1\` prints every round).

\`npm run bench\` runs each benchmark in a process of its own (\`bench/run.ts --one <name>\`, which
sends its figures back to the runner), so none inherits the heap, threads or DuckDB instances of the
ones before it: a runner grown to 1.3 GB took about 40 ms longer to spawn each child process.

- **event-log** (\`bench/event-log.ts\`): 1M durable appends from 100 concurrent
  producers (64 appends in flight each) against two baselines that \`write\` and
  \`fdatasync\` once per 1,000 events. \`append_ratio\` compares with lines serialised
  before the clock starts: an upper bound no log reaches, since it skips
  serialisation. \`append_framed_ratio\` compares with what an event log is
  really measured against: a minimal loop that serialises the same records with
  \`JSON.stringify\`, frames each with length and CRC32 and writes them.
  \`BENCH_ROUNDS\` (default 5) rounds run all three, the framed baseline and the
  log in alternating order; rates are medians, ratios the medians of the
  rounds' ratios. Then a replay with \`read$\` against \`readline\` + \`JSON.parse\`.

  Where the time goes (appends; \`node --cpu-prof\`, log on tmpfs so the disk
  is out of the picture): about a third of the CPU frames records (hand-built
  JSON around \`JSON.stringify(data)\`, the UTF-8 write into one buffer per
  batch, \`zlib.crc32\`), about what the framed baseline spends serialising;
  12–18% is garbage collection. The rest is the promise each append returns
  (it resolves only once its record is durable): the same 100 producers
  appending to a queue with no log behind it already cost ~70% of the framed
  baseline's whole CPU. The log wins that back on a real disk: it encodes the
  next batch while the previous one syncs and group-commits up to 4,000 events
  per \`fdatasync\`, where the baseline serialises, writes and waits 1,000 at a
  time. So the framed ratio depends on the disk's sync latency: above 1 when
  \`fdatasync\` is slow, lower when the CPU is the limit.

- **sync-csv** (\`bench/sync-csv.ts\`): \`ada sync\` as a child process (start-up,
  staging, blob store, event log, publish, projections) on a generated 5M-row CSV
  (id, ts, category, amount, note; ~380 MB) against a bare DuckDB \`COPY\` of the
  same data in the same process run:
  - full refresh of a table that was synced once before (from a one-row file, so
    the data directory's one-off first-sync work is not timed) against
    \`COPY (SELECT * FROM read_csv(f)) TO 'x.parquet'\`;
  - incremental: a 100k-row delta file (half updates spread over all ids, half new
    ids) added next to the 5M-row file, against an anti-join rewrite of the same
    published file (\`old ANTI JOIN delta UNION ALL delta\`);
  - partitioned by month (60 partitions): a 100k-row delta in the last two months,
    against the same anti join rewriting all partitions (\`PARTITION_BY (month)\`).

  Each case runs \`BENCH_REPEAT\` (default 5) times, the baseline and \`ada sync\`
  back to back; figures are medians, a ratio is the median of the rounds' ratios.
  Peak RSS is the sync process's (GNU \`time -v\`, else polling
  \`/proc/<pid>/status\` VmHWM). The \`*_phases\` figures split the median sync by
  its events' times: \`startup\` (process, configuration, broker) until
  \`SyncStarted\`; \`stage\` (CSV to Parquet, blob store) until
  \`TableStagingCompleted\`; \`publish\` until \`TablePublished\`; \`finish\`
  (projection catch-up, exit). \`startup_s\` is the median start-up of all timed
  syncs, a fixed cost inside every ratio.
- **replay** (\`bench/replay.ts\`): a data directory holding the full history of an
  incremental table (a 1M-row full refresh, then syncs of a 10k-row delta each, half updates
  and half new ids; \`BENCH_REPLAY_SYNCS\`, default 100, syncs in all), rebuilt by \`ada replay\`
  (every projection, a child process) against the time of the table's last sync alone (\`ada
  sync\`, a child process). \`BENCH_REPEAT\` (default 3) of the last syncs and as many replays
  are timed; figures are medians. \`replay.phases\` splits the median replay by the
  projections' own times.
- **sync-partitions** (\`bench/sync-partitions.ts\`): a 5M-row table partitioned
  by month (60 partitions) gets a 100k-row delta in its last two months, synced
  through a running \`ada serve\` (control socket, no process start) and by a
  one-off \`ada sync\`, against a bare DuckDB anti join rewriting every
  partition; with the bytes each process read (\`/proc/<pid>/io\` rchar) and how
  many untouched partition files were opened (their access times).

`;

/** The benchmark modules in bench/, by name (file name without `.ts`), sorted. */
async function benchmarkNames(): Promise<string[]> {
  const files = await readdir(BENCH_DIR);
  return files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !NOT_BENCHMARKS.has(f)).map((f) => f.slice(0, -3)).sort();
}

/** Passes BENCH_SCALE on to benchmarks that take their size from their own variable; set before they are imported. */
function applyScale(): number {
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
  // The event log benchmark splits its events over 100 producers.
  if (scale !== 1 && process.env.BENCH_EVENTS === undefined) process.env.BENCH_EVENTS = String(Math.max(1000, Math.round(1_000_000 * scale / 100) * 100));
  return scale;
}

/** Whether a value meets a goal; undefined when there is no goal or the value is not a number. */
function meets(value: string | number, goal: Goal | undefined): boolean | undefined {
  if (!goal || typeof value !== 'number') return undefined;
  return (goal.min === undefined || value >= goal.min) && (goal.max === undefined || value <= goal.max);
}

function goalText(goal: Goal | undefined): string {
  if (!goal) return '';
  return [goal.min !== undefined ? `≥ ${goal.min}` : '', goal.max !== undefined ? `≤ ${goal.max}` : ''].filter(Boolean).join(', ');
}

const show = (value: string | number): string => (typeof value === 'number' ? String(round(value)) : value);
const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** One benchmark's section of the document. */
interface Result {
  name: string;
  figures?: Figures;
  goals: Goals;
  error?: string;
  seconds: number;
}

function section(result: Result, when: string, scale: number): string {
  const lines = [sectionStart(result.name), `### ${result.name}`, '', `Measured ${when}, BENCH_SCALE=${scale}, in ${round(result.seconds)} s.`, ''];
  if (result.error !== undefined || !result.figures) {
    lines.push(`**Failed:** ${cell(result.error ?? 'no figures')}`);
  } else {
    lines.push('| name | value | goal | met? |', '| --- | --- | --- | --- |');
    for (const [name, value] of result.figures) {
      const goal = result.goals[name];
      const met = meets(value, goal);
      lines.push(`| ${cell(name)} | ${cell(show(value))} | ${cell(goalText(goal))} | ${met === undefined ? '' : met ? 'yes' : '**no**'} |`);
    }
  }
  lines.push('', sectionEnd(result.name));
  return lines.join('\n');
}

/** The commit measured, and whether the checkout had uncommitted changes (read-only git calls). */
function revision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: BENCH_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

function machine(when: string): string {
  const cpus = os.cpus();
  const models = [...new Set(cpus.map((c) => c.model.trim()))].join(', ') || 'unknown';
  return [
    '## Figures',
    '',
    `Last run ${when} on:`,
    '',
    `- CPU: ${models}, ${cpus.length} logical core${cpus.length === 1 ? '' : 's'}`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${os.type()} ${os.release()} (${os.arch()})`,
    `- Node.js ${process.version}`,
    `- code: commit ${revision()}`,
  ].join('\n');
}

/** Rewrites the figures section of docs/benchmarks.md, keeping the intro and the sections of benchmarks not run now. */
async function writeDoc(results: Result[], all: string[], scale: number): Promise<void> {
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const current = existsSync(DOC) ? await readFile(DOC, 'utf8') : undefined;
  const startAt = current?.indexOf(START) ?? -1;
  const intro = current !== undefined && startAt >= 0 ? current.slice(0, startAt) : INTRO;
  const old = current !== undefined && startAt >= 0 ? current.slice(startAt) : '';
  const sections = all.map((name) => {
    const result = results.find((r) => r.name === name);
    if (result) return section(result, when, scale);
    const from = old.indexOf(sectionStart(name));
    const to = old.indexOf(sectionEnd(name));
    return from >= 0 && to > from ? old.slice(from, to + sectionEnd(name).length) : undefined;
  }).filter((s): s is string => s !== undefined);
  await writeFile(DOC, `${intro}${START}\n${machine(when)}\n\n${sections.join('\n\n')}\n${END}\n`);
}

async function main(): Promise<number> {
  const scale = applyScale();
  const all = await benchmarkNames();
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${all.join(', ')}\n`);
    return 2;
  }
  const names = wanted.length > 0 ? all.filter((n) => wanted.includes(n)) : all;
  const results: Result[] = [];
  for (const name of names) {
    process.stdout.write(`# ${name}\n`);
    const started = performance.now();
    const outcome = await runInChild(name);
    if (outcome.error !== undefined) process.stderr.write(`${name} failed: ${outcome.error}\n`);
    results.push({ name, goals: outcome.goals ?? FALLBACK_GOALS[name] ?? {}, figures: outcome.figures, error: outcome.error, seconds: (performance.now() - started) / 1000 });
  }
  await writeDoc(results, all, scale);

  const missed: string[] = [];
  let checked = 0;
  for (const r of results) {
    for (const [name, value] of r.figures ?? []) {
      const met = meets(value, r.goals[name]);
      if (met === undefined) continue;
      checked++;
      if (!met) missed.push(`${name} = ${show(value)} (goal ${goalText(r.goals[name])})`);
    }
  }
  process.stdout.write(`\n${checked - missed.length} of ${checked} goals met${missed.length ? `; missed:\n${missed.map((m) => `  ${m}`).join('\n')}` : ''}\n`);
  process.stdout.write(`figures written to ${path.relative(process.cwd(), DOC)}\n`);
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

/** What a benchmark's process reports to the runner. */
interface Outcome {
  figures?: Figures;
  goals?: Goals;
  error?: string;
}

/**
 * Runs one benchmark in a process of its own (this file with `--one`, the runner's Node flags), which prints its
 * figures as it goes and sends them back. Each benchmark starts in a fresh process whatever ran before it: a runner
 * grown to 1.3 GB by the event-log, fan-out and Jira benchmarks took about 40 ms longer to spawn each child
 * (`fork` copies the page tables of the whole process), which the start-up benchmark timed as ours, and its heap,
 * threads and DuckDB instances were the later benchmarks' neighbours.
 */
function runInChild(name: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let outcome: Outcome | undefined;
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', name], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (message: Outcome) => (outcome = message));
    child.on('error', (err) => resolve({ error: `could not start: ${err.message}` }));
    child.on('exit', (code, signal) => {
      if (outcome && (outcome.error !== undefined || code === 0)) resolve(outcome);
      else resolve({ ...outcome, error: `its process ${signal ? `was killed by ${signal}` : `exited with ${code}`} before reporting its figures` });
    });
  });
}

/** The child's side of `runInChild`: runs the benchmark `name`, prints its figures and sends them to the runner. */
async function runOne(name: string): Promise<void> {
  const send = (outcome: Outcome): Promise<void> => new Promise((resolve) => process.send!(outcome, () => resolve()));
  try {
    const mod = await import(pathToFileURL(path.join(BENCH_DIR, `${name}.ts`)).href) as Partial<BenchModule>;
    if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts exports no run()`);
    const figures = await mod.run();
    report(figures);
    await send({ figures, ...(mod.goals ? { goals: mod.goals } : {}) });
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    await send({ error: err instanceof Error ? err.message : String(err) });
  }
  process.disconnect();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--one' && process.send) await runOne(process.argv[3]!);
  else process.exitCode = await main();
}
