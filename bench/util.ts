/** Shared helpers of the benchmarks: timing, peak RSS, printing `name: value` lines. */
import { spawn } from 'node:child_process';
import { constants, readFileSync, writeFileSync } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLogReader } from '../events/index.ts';
import type { RecordedEvent } from '../events/index.ts';

/**
 * The node flags of bin/ada.js's `#!` line (none today). A child started with them runs as the installed `ada` command
 * does, with the bundle's code cache, which V8 takes only under the flags it was made with (bin/bundle.js); under
 * other flags every function of the bundle is compiled from its source.
 */
export const ADA_NODE_FLAGS: readonly string[] = readFileSync(fileURLToPath(new URL('../bin/ada.js', import.meta.url)), 'utf8')
  .split('\n', 1)[0]!.split(/\s+/).filter((f) => f.startsWith('--'));

/**
 * The environment of the `ada` processes a benchmark starts (and of `node -e 0`, their baseline): this process's, less
 * `NODE_EXTRA_CA_CERTS`, unless `BENCH_MACHINE_ENV=1`. Node 20 reads and parses that file while it starts, before any
 * line of the program runs: on the machine of docs/benchmarks.md, whose environment names its whole CA bundle there,
 * that is about 60 ms of every process (`node -e 0`: 0.02 s without it, 0.08 s with it), a cost of the machine that a
 * user's does not pay by default. `startup.extra_ca_certs_s` (bench/startup.ts) prints what it costs where it is set.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (process.env.BENCH_MACHINE_ENV !== '1') delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Scratch space of the benchmarks (git-ignored). */
export const BENCH_DIR = path.resolve(process.env.ADA_BENCH_DIR ?? 'bench/.work');

/** A fresh scratch directory for one benchmark. */
export async function scratch(name: string): Promise<string> {
  const dir = path.join(BENCH_DIR, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Runs `fn` and returns its result and elapsed milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - start };
}

/** Peak resident set size of this process so far, in MB (Linux VmHWM). */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // Not Linux: fall back to the current RSS.
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

/**
 * Resets this process's peak RSS to its current RSS (Linux: `5` into /proc/self/clear_refs), so `peakRssMb()`
 * tells the peak of what runs next, not of a benchmark that `npm run bench` ran earlier in the same process.
 * False where it cannot (then the peak is the process's since its start).
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Figures a benchmark reports, in the order printed. */
export type Figures = Array<[string, string | number]>;

/** Prints one `name: value` line per figure. */
export function report(figures: Figures): void {
  for (const [name, value] of figures) {
    process.stdout.write(`${name}: ${typeof value === 'number' ? round(value) : value}\n`);
  }
}

/** Rounds to 3 significant decimals for display. */
export function round(n: number): number {
  if (Math.abs(n) >= 100) return Math.round(n);
  return Math.round(n * 1000) / 1000;
}

/** What one `ada sync --json` child process reported. */
export interface SyncRun {
  ms: number;
  rssMb: number;
  rows: number;
  runId: string;
  /** Wall-clock start and end (epoch ms), to split the run into phases with the events' times. */
  startedAt: number;
  endedAt: number;
  /** Everything the child printed, for checks such as "no secret in the output". */
  output: string;
  /** Bytes the child read through read(2) and friends (`rchar` of /proc/self/io at exit, page cache included), in MB; undefined off Linux. */
  readMb?: number;
  /** CPU time of the child, user and system, its threads included (GNU `time -v`), in ms; undefined without it. */
  cpuMs?: number;
}

const HAS_PROC_IO = (() => {
  try {
    readFileSync('/proc/self/io');
    return true;
  } catch {
    return false;
  }
})();

/** GNU time, for the peak RSS of a child process. */
const TIME_BIN = '/usr/bin/time';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function vmHwmMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** What one `ada` child process did. */
export interface AdaRun {
  ms: number;
  /** Peak RSS in MB (GNU `time -v`, else polling /proc/<pid>/status VmHWM). */
  rssMb: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock start and end (epoch ms). */
  startedAt: number;
  endedAt: number;
  /** Bytes the child read through read(2) and friends (`rchar` of /proc/self/io at exit, page cache included), in MB; undefined off Linux. */
  readMb?: number;
  /** CPU time of the child, user + system, in ms (GNU `time -v`); undefined without it. */
  cpuMs?: number;
}

/**
 * Runs `node <ADA_NODE_FLAGS> <nodeArgs> bin/ada.js <args>` as a child process and returns its time, output, peak RSS
 * and bytes read.
 * `root` holds the files GNU time and the I/O probe write.
 */
export async function runAda(root: string, args: string[], options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<AdaRun> {
  const adaBin = fileURLToPath(new URL('../bin/ada.js', import.meta.url));
  const ioFile = path.join(root, 'proc-io.txt');
  const probe = HAS_PROC_IO ? ['--import', IO_PROBE] : [];
  const nodeArgs = [...ADA_NODE_FLAGS, ...(options.nodeArgs ?? []), ...probe, adaBin, ...args];
  const timeFile = path.join(root, 'time-v.txt');
  const useTime = await isExecutable(TIME_BIN);
  const env = childEnv({ ...options.env, ADA_BENCH_IO_FILE: ioFile });
  await rm(ioFile, { force: true });
  const startedAt = Date.now();
  const t0 = performance.now();
  const proc = useTime
    ? spawn(TIME_BIN, ['-v', '-o', timeFile, process.execPath, ...nodeArgs], { stdio: ['ignore', 'pipe', 'pipe'], env })
    : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let polled = 0;
  const poll = useTime || proc.pid === undefined ? undefined : setInterval(() => (polled = Math.max(polled, vmHwmMb(proc.pid!))), 25);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', resolve);
  });
  const ms = performance.now() - t0;
  const endedAt = Date.now();
  if (poll) clearInterval(poll);
  let rssMb = polled;
  let cpuMs: number | undefined;
  if (useTime) {
    const report = await readFile(timeFile, 'utf8').catch(() => '');
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
    if (!m && code === 0) throw new Error(`no peak RSS in ${timeFile}`);
    rssMb = m ? Number(m[1]) / 1024 : 0;
    const user = /User time \(seconds\): ([\d.]+)/.exec(report);
    const system = /System time \(seconds\): ([\d.]+)/.exec(report);
    if (user && system) cpuMs = (Number(user[1]) + Number(system[1])) * 1000;
  }
  const rchar = HAS_PROC_IO ? /^rchar:\s*(\d+)/m.exec(await readFile(ioFile, 'utf8').catch(() => '')) : null;
  return { ms, rssMb, code, stdout, stderr, startedAt, endedAt, ...(rchar ? { readMb: Number(rchar[1]) / 1e6 } : {}), ...(cpuMs !== undefined ? { cpuMs } : {}) };
}

/** Parses the `--json` output of an `ada` child; throws with its output unless it exited 0 with `ok: true`. */
export function adaJson<T extends { ok?: boolean }>(command: string, run: AdaRun): T {
  let json: T | undefined;
  try {
    json = JSON.parse(run.stdout) as T;
  } catch {
    // Reported below.
  }
  if (run.code !== 0 || !json?.ok) throw new Error(`ada ${command} failed (exit ${run.code}):\n${run.stderr}\n${run.stdout}`.trim());
  return json;
}

/**
 * Runs `node <ADA_NODE_FLAGS> <nodeArgs> bin/ada.js sync --config … --data … --json` as a child process and returns its time, its
 * first table's rows and run id, and its peak RSS (see runAda).
 */
export async function runAdaSync(inst: { root: string; configDir: string; dataDir: string }, options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<SyncRun> {
  const run = await runAda(inst.root, ['sync', '--config', inst.configDir, '--data', inst.dataDir, '--json'], options);
  const table = adaJson<{ ok?: boolean; tables?: Array<{ rows: number; runId: string }> }>('sync', run).tables?.[0];
  if (!table) throw new Error(`ada sync reported no table:\n${run.stdout}`);
  const { ms, rssMb, startedAt, endedAt, readMb, cpuMs } = run;
  return {
    ms, rssMb, rows: table.rows, runId: table.runId, startedAt, endedAt, output: run.stdout + run.stderr,
    ...(readMb !== undefined ? { readMb } : {}), ...(cpuMs !== undefined ? { cpuMs } : {}),
  };
}

/** The median of some numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The directories of a benchmark's CSV instance: configuration, the CSV files it reads, the data directory. */
export interface CsvInstance {
  root: string;
  configDir: string;
  csvDir: string;
  dataDir: string;
}

/**
 * Creates an instance named `name` under `root` that reads CSV files from its `csv/` directory: its instance.yaml (the
 * caller writes data_description.md) and the directories (the data directory is ada's to create).
 */
export async function csvInstance(root: string, name: string): Promise<CsvInstance> {
  const inst = { root, configDir: path.join(root, 'config'), csvDir: path.join(root, 'csv'), dataDir: path.join(root, 'data') };
  await mkdir(inst.configDir, { recursive: true });
  await mkdir(inst.csvDir, { recursive: true });
  await writeFile(path.join(inst.configDir, 'instance.yaml'), [
    'instance:', `  name: ${name}`, 'auth:', '  allowed_domain: example.com', '  webapp_secret_key: bench-secret-key-0123456789',
    'data_source:', '  type: csv', '  csv:', '    dir: ../csv', '',
  ].join('\n'));
  return inst;
}

/** The phases of one sync run, in ms, from its events' times: until SyncStarted, until TableStagingCompleted, until TablePublished, the rest. */
export interface SyncPhases {
  startupMs: number;
  stageMs: number;
  publishMs: number;
  finishMs: number;
}

/** Splits a sync run by the times of its events in the data directory's log. */
export async function syncPhases(dataDir: string, run: SyncRun): Promise<SyncPhases> {
  const events = await lastValueFrom(new EventLogReader(path.join(dataDir, 'events')).read$(1).pipe(toArray()));
  const mine = events.filter((e) => (e.data as { runId?: string }).runId === run.runId);
  const at = (type: RecordedEvent['type']): number => {
    const found = mine.find((e) => e.type === type);
    if (!found) throw new Error(`run ${run.runId}: no ${type} event`);
    return Date.parse(found.at);
  };
  const started = at('SyncStarted');
  const staged = at('TableStagingCompleted');
  const published = at('TablePublished');
  return { startupMs: started - run.startedAt, stageMs: staged - started, publishMs: published - staged, finishMs: run.endedAt - published };
}

/** Seconds with three decimals, for phase texts. */
export function seconds(ms: number): string {
  return `${round(ms / 1000)}s`;
}

/** Bytes a process has read through read-like system calls so far (`rchar` of /proc/<pid>/io; page-cache hits count too). */
export function readBytesOf(pid: number | 'self'): number {
  const m = /^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!m) throw new Error(`no rchar in /proc/${pid}/io`);
  return Number(m[1]);
}

/**
 * CPU time (user + system) a process has used so far, all its threads or only thread `tid` of it, in ms
 * (`/proc/<pid>/stat` or `/proc/<pid>/task/<tid>/stat`, in clock ticks of 10 ms).
 */
export function cpuMsOf(pid: number, tid?: number): number {
  // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Preloaded into an `ada` child (`node --import`): writes its /proc/self/io at exit to $ADA_BENCH_IO_FILE. */
export const IO_PROBE = fileURLToPath(new URL('./io-probe.mjs', import.meta.url));

/** A running `ada serve` child. */
export interface AdaServe {
  pid: number;
  /** Peak RSS so far, in MB (VmHWM). */
  peakRssMb(): number;
  /** Stops it with SIGINT and waits for its exit. */
  stop(): Promise<void>;
}

/**
 * Starts `ada serve --port 0` on an instance as a child process and waits until its control socket answers
 * (`ready`, e.g. `ControlClient.connect`, returns true). `BENCH_SERVE_NODE_ARGS` (space-separated) goes to its node,
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server.
 */
export async function startAdaServe(inst: { configDir: string; dataDir: string }, ready: () => Promise<boolean>, timeoutMs = 120_000): Promise<AdaServe> {
  const adaBin = fileURLToPath(new URL('../bin/ada.js', import.meta.url));
  const proc = spawn(process.execPath, [...ADA_NODE_FLAGS, ...(process.env.BENCH_SERVE_NODE_ARGS?.split(' ').filter(Boolean) ?? []), adaBin, 'serve', '--port', '0', '--config', inst.configDir, '--data', inst.dataDir], { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = performance.now() + timeoutMs;
  while (!(await ready())) {
    if (gone || performance.now() > deadline) {
      if (!gone) proc.kill('SIGKILL');
      throw new Error(`ada serve did not start:\n${err}`.trim());
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = proc.pid!;
  return {
    pid,
    peakRssMb: () => vmHwmMb(pid),
    stop: async () => {
      if (!gone) proc.kill('SIGINT');
      await exited;
    },
  };
}
