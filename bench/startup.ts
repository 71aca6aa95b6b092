/**
 * Process start-up: `ada --version`, `ada --help` and `ada sync` of a one-row CSV table, each a whole child process
 * timed from spawn to exit, against `node -e 0` in the same run. Rounds alternate the commands so a change in the
 * machine's load hits them alike; figures are medians. Builds dist/ first (`npm run build`), as users run it.
 *
 * `ada sync` is timed twice, on two instances of the same table: `sync_one_row_s` with `ada serve` running on its
 * data directory (the command is then a thin client of the server's control socket, and the sync runs in the
 * server: the case the goal applies to, as a deployed broker always runs `ada serve`), and
 * `sync_one_row_standalone_s` with no server (the command opens the log, DuckDB and the connector itself).
 * `sync_one_row_in_server_s` is the served sync asked from this (warm) process: the server's own work, with no
 * process start, so `sync_one_row_s` minus it is what the thin client costs.
 *
 * Every child runs in `childEnv()`: without `NODE_EXTRA_CA_CERTS`, which Node reads while it starts (see bench/util.ts).
 * Where this machine sets it, `node -e 0` and the served sync are also timed with it (`*_machine_env_s`), and
 * `extra_ca_certs_s` is what it adds to every process.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADA_NODE_FLAGS, childEnv, report, scratch } from './util.ts';
import type { Figures } from './util.ts';
import { syncThroughServer } from '../ops/control/sync-client.ts';

/** Goals of the start-up figures (whole process, against bare node in the same run). */
export const goals: Record<string, { min?: number; max?: number }> = {
  'startup.version_ratio': { max: 2 },
  'startup.sync_one_row_s': { max: 0.15 },
};

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADA_BIN = path.join(ROOT, 'bin', 'ada.js');
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

/** Starts `ada serve` on an instance and waits until it listens. */
function startServe(inst: { configDir: string; dataDir: string }, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...ADA_NODE_FLAGS, ADA_BIN, 'serve', '--port', '0', '--config', inst.configDir, '--data', inst.dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/on http:\/\/127\.0\.0\.1:\d+/.test(out)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`ada serve exited with ${code}: ${err}`)));
  });
}

/** Runs the start-up benchmark. */
export async function run(): Promise<Figures> {
  if (process.env.BENCH_NO_BUILD !== '1') execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const env = childEnv({ ADA_FROM_SOURCE: undefined });
  // This machine's environment as it is, when it differs from `env` (NODE_EXTRA_CA_CERTS set).
  const machineEnv = process.env.NODE_EXTRA_CA_CERTS && env.NODE_EXTRA_CA_CERTS === undefined ? { ...process.env, ADA_FROM_SOURCE: undefined } : undefined;
  const root = await scratch('startup');
  const alone = await oneRowInstance(path.join(root, 'standalone'));
  const served = await oneRowInstance(path.join(root, 'served'));
  const syncArgs = (inst: { configDir: string; dataDir: string }): string[] => [...ADA_NODE_FLAGS, ADA_BIN, 'sync', '--config', inst.configDir, '--data', inst.dataDir, '--json'];
  // The first sync creates the data directory: one-off work a recurring sync does not pay.
  for (const inst of [alone, served]) {
    await writeFile(inst.csvFile, 'id,note\n1,first\n');
    await timeChild(syncArgs(inst), env);
  }
  const server = await startServe(served, env);
  try {
    const times = { node: [] as number[], version: [] as number[], help: [] as number[], served: [] as number[], alone: [] as number[], inServer: [] as number[], nodeMachine: [] as number[], servedMachine: [] as number[] };
    const versionRatios: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // A changed row each round, so every timed sync stages and publishes.
      await writeFile(alone.csvFile, `id,note\n1,round ${i}\n`);
      const node = await timeChild(['-e', '0'], env);
      const version = await timeChild([...ADA_NODE_FLAGS, ADA_BIN, '--version'], env);
      times.node.push(node);
      times.version.push(version);
      times.help.push(await timeChild([...ADA_NODE_FLAGS, ADA_BIN, '--help'], env));
      await writeFile(served.csvFile, `id,note\n1,round ${i}\n`);
      times.served.push(await timeChild(syncArgs(served), env));
      times.alone.push(await timeChild(syncArgs(alone), env));
      await writeFile(served.csvFile, `id,note\n1,again ${i}\n`);
      const t0 = performance.now();
      const outcomes = await syncThroughServer(served.dataDir, [], { source: 'bench:startup' });
      if (!outcomes || outcomes.some((o) => o.status !== 'succeeded')) throw new Error(`the served sync failed: ${JSON.stringify(outcomes)}`);
      times.inServer.push(performance.now() - t0);
      if (machineEnv) {
        times.nodeMachine.push(await timeChild(['-e', '0'], machineEnv));
        await writeFile(served.csvFile, `id,note\n1,machine ${i}\n`);
        times.servedMachine.push(await timeChild(syncArgs(served), machineEnv));
      }
      versionRatios.push(version / node);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`round ${i}: node ${node.toFixed(0)} ms, version ${version.toFixed(0)} ms, sync served ${times.served.at(-1)!.toFixed(0)} ms, standalone ${times.alone.at(-1)!.toFixed(0)} ms, in server ${times.inServer.at(-1)!.toFixed(0)} ms\n`);
    }
    const s = (xs: number[]): number => median(xs) / 1000;
    return [
      ['startup.node_s', s(times.node)],
      ['startup.version_s', s(times.version)],
      ['startup.version_ratio', median(versionRatios)],
      ['startup.help_s', s(times.help)],
      ['startup.sync_one_row_s', s(times.served)],
      ['startup.sync_one_row_ratio', median(times.served) / median(times.node)],
      ['startup.sync_one_row_in_server_s', s(times.inServer)],
      ['startup.sync_one_row_standalone_s', s(times.alone)],
      ['startup.sync_one_row_standalone_ratio', median(times.alone) / median(times.node)],
      ['startup.rounds', ROUNDS],
      ...(machineEnv ? [
        ['startup.node_machine_env_s', s(times.nodeMachine)],
        ['startup.extra_ca_certs_s', s(times.nodeMachine) - s(times.node)],
        ['startup.sync_one_row_machine_env_s', s(times.servedMachine)],
      ] as Figures : []),
    ];
  } finally {
    server.kill('SIGINT');
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
