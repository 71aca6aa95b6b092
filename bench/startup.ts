/**
 * Process start-up: `ada --version`, `ada --help` and `ada sync` of a one-row CSV table, each a whole child process
 * timed from spawn to exit, against `node -e 0` in the same run. Rounds alternate the four commands so a change in
 * the machine's load hits them alike; figures are medians. Builds dist/ first (`npm run build`), as users run it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { report, scratch } from './util.ts';
import type { Figures } from './util.ts';

/** Goals of the start-up figures (whole process, against bare node in the same run). */
export const goals: Record<string, { min?: number; max?: number }> = {
  'startup.version_ratio': { max: 2 },
  'startup.sync_one_row_s': { max: 0.15 },
};

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADA_BIN = path.join(ROOT, 'bin', 'ada.js');
/** The flags of bin/ada.js's `#!` line, so the child starts as the installed command does. */
const NODE_FLAGS = ['--max-semi-space-size=64'];
const ROUNDS = Math.max(3, Math.round(Number(process.env.BENCH_REPEAT ?? 15)));

/** Runs a child process to its exit; returns the wall time in ms, failing on a non-zero exit. */
function timeChild(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${args.join(' ')} exited with ${code}: ${err}`));
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** A CSV instance with one table of one row. */
async function oneRowInstance(root: string): Promise<{ configDir: string; dataDir: string; csvFile: string }> {
  const configDir = path.join(root, 'config');
  const csvDir = path.join(root, 'csv');
  await mkdir(configDir, { recursive: true });
  await mkdir(csvDir, { recursive: true });
  await writeFile(path.join(configDir, 'instance.yaml'), [
    'instance:', '  name: Start-up benchmark',
    'auth:', '  allowed_domain: example.com', '  webapp_secret_key: bench-secret-key-0123456789',
    'data_source:', '  type: csv', '  csv:', '    dir: ../csv', '',
  ].join('\n'));
  await writeFile(path.join(configDir, 'data_description.md'), [
    '# Start-up benchmark', '', '```yaml', 'tables:', '  - id: one', '    name: one', '    description: One row',
    '    primary_key: id', '    file: one.csv', '    columns:', '      - {name: id, type: INTEGER}', '      - {name: note, type: STRING}', '```', '',
  ].join('\n'));
  return { configDir, dataDir: path.join(root, 'data'), csvFile: path.join(csvDir, 'one.csv') };
}

/** Runs the start-up benchmark. */
export async function run(): Promise<Figures> {
  if (process.env.BENCH_NO_BUILD !== '1') execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const env = { ...process.env, ADA_FROM_SOURCE: undefined };
  const inst = await oneRowInstance(await scratch('startup'));
  const sync = [...NODE_FLAGS, ADA_BIN, 'sync', '--config', inst.configDir, '--data', inst.dataDir, '--json'];
  // The first sync creates the data directory: one-off work a recurring sync does not pay.
  await writeFile(inst.csvFile, 'id,note\n1,first\n');
  await timeChild(sync, env);
  const times = { node: [] as number[], version: [] as number[], help: [] as number[], sync: [] as number[] };
  const versionRatios: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // A changed row each round, so every timed sync stages and publishes.
    await writeFile(inst.csvFile, `id,note\n1,round ${i}\n`);
    const node = await timeChild(['-e', '0'], env);
    const version = await timeChild([...NODE_FLAGS, ADA_BIN, '--version'], env);
    times.node.push(node);
    times.version.push(version);
    times.help.push(await timeChild([...NODE_FLAGS, ADA_BIN, '--help'], env));
    times.sync.push(await timeChild(sync, env));
    versionRatios.push(version / node);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`round ${i}: node ${node.toFixed(0)} ms, version ${version.toFixed(0)} ms, sync ${times.sync.at(-1)!.toFixed(0)} ms\n`);
  }
  const s = (xs: number[]): number => median(xs) / 1000;
  return [
    ['startup.node_s', s(times.node)],
    ['startup.version_s', s(times.version)],
    ['startup.version_ratio', median(versionRatios)],
    ['startup.help_s', s(times.help)],
    ['startup.sync_one_row_s', s(times.sync)],
    ['startup.sync_one_row_ratio', median(times.sync) / median(times.node)],
    ['startup.rounds', ROUNDS],
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
