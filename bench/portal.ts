/**
 * Portal benchmark: `/api/catalog` (with an analyst token) and `/health` requests per second and p99
 * latency at 50 connections, measured by autocannon in a child process against the portal on
 * 127.0.0.1, next to a bare fastify hello-world measured the same way in the same run. The portal
 * serves the demo instance, synced first.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { main } from '../ops/cli.ts';
import { ConnectorRegistry, loadConfig } from '../connectors/index.ts';
import { Broker, decideAddAnalyst, decideIssueToken, readProfiles } from '../pipeline/index.ts';
import type { AccessState, CatalogState, SyncState } from '../pipeline/index.ts';
import { buildServer, whenHeadMoves } from '../portal/index.ts';
import { serveLogger } from '../ops/serve-logger.ts';
import { report, scratch } from './util.ts';
import type { Figures } from './util.ts';
import type { Goals } from './run.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
/** Seconds of load per endpoint. */
const DURATION_S = Math.max(2, Math.round(10 * SCALE));
const CONNECTIONS = 50;
/** Seconds of unmeasured load before each measured one, so every endpoint is measured with its code optimised by V8, not while it compiles. */
const WARMUP_S = 1;
const DEMO = fileURLToPath(new URL('../examples/demo', import.meta.url));
const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));
/** `BENCH_CPU_PROF=<dir>` writes a CPU profile of the server's process for each endpoint's load (`<dir>/portal-<name>.cpuprofile`). */
const CPU_PROF = process.env.BENCH_CPU_PROF;

/** Goals of this benchmark. */
export const goals: Goals = {
  'portal.catalog_ratio': { min: 0.5 },
  'portal.health_ratio': { min: 0.5 },
  'portal.catalog_p99_ms': { max: 20 },
  'portal.health_p99_ms': { max: 20 },
};

interface Load {
  rps: number;
  /** CPU time (user + system) of this process, the server's, per answered request: steadier than rates on a busy machine. */
  cpuUsPerRequest: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Runs autocannon in its own process, so load generation does not share the server's event loop. */
function autocannon(url: string, headers: Record<string, string> = {}, seconds = DURATION_S): Promise<Load> {
  const args = [AUTOCANNON, '-c', String(CONNECTIONS), '-d', String(seconds), '-j', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  const cpu = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const used = process.cpuUsage(cpu);
        const r = JSON.parse(out) as { requests: { average: number; total: number }; latency: { p99: number }; errors: number; non2xx: number };
        resolve({ rps: r.requests.average, cpuUsPerRequest: (used.user + used.system) / Math.max(1, r.requests.total), p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx });
      } catch {
        reject(new Error(`autocannon exited with ${code}: ${out.slice(0, 500)}`));
      }
    });
  });
}

/** A warm-up load, then the measured one (profiled as `name` when `BENCH_CPU_PROF` asks for it). */
async function measured(url: string, headers: Record<string, string> = {}, name?: string): Promise<Load> {
  await autocannon(url, headers, WARMUP_S);
  return name ? profiled(name, () => autocannon(url, headers)) : autocannon(url, headers);
}

/** Runs a load, profiling this process meanwhile when `BENCH_CPU_PROF` asks for it. */
async function profiled(name: string, load: () => Promise<Load>): Promise<Load> {
  if (!CPU_PROF) return load();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await load();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(path.join(CPU_PROF, `portal-${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** Runs the benchmark. */
export async function run(): Promise<Figures> {
  const dir = await scratch('portal');
  const dataDir = path.join(dir, 'data');
  const quiet = { env: process.env, out: () => undefined, err: () => undefined, isTTY: false, signal: new AbortController().signal };
  if (await main({ ...quiet, argv: ['sync', '--config', DEMO, '--data', dataDir] }) !== 0) throw new Error('syncing the demo failed');

  const hello = Fastify();
  hello.get('/', async () => ({ hello: 'world' }));
  const helloUrl = await hello.listen({ port: 0, host: '127.0.0.1' });
  const baseline = await measured(helloUrl);
  await hello.close();

  const config = await loadConfig({ configDir: DEMO, env: process.env });
  const broker = await Broker.open({ config, dataDir, connectors: (c) => new ConnectorRegistry(c), eventSource: 'bench', logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
  try {
    const caughtUp = <S>(name: string): (() => Promise<S>) => whenHeadMoves(() => broker.log.head, () => broker.stateOf<S>(name));
    const access = caughtUp<AccessState>('access');
    const added = decideAddAnalyst(await access(), broker.config, { name: 'bench', role: 'analyst' });
    await broker.log.append({ ...added.event, key: added.idempotencyKey });
    const issued = decideIssueToken(await access(), broker.config, 'bench');
    await broker.log.append({ ...issued.event, key: issued.idempotencyKey });
    const server = await buildServer({
      config: broker.config,
      health: () => broker.health(),
      authenticate: ({ token }) => (token ? broker.authenticate(token) : undefined),
      access,
      catalog: caughtUp<CatalogState>('catalog'),
      syncState: caughtUp<SyncState>('sync-state'),
      profiles: () => readProfiles(broker.dataDir),
      events: broker.log,
      append: (e) => broker.log.append(e),
      // The logger of `ada serve` at its level (info), its lines dropped: what formatting them costs counts, not a terminal.
    }, { logger: serveLogger({ isTTY: false, out: () => undefined }) });
    const url = await server.listen({ port: 0, host: '127.0.0.1' });
    const catalog = await measured(`${url}/api/catalog`, { authorization: `Bearer ${issued.token.token}` }, 'catalog');
    const health = await measured(`${url}/health`, {}, 'health');
    // What the catalog's size alone costs: a bare fastify route sending the same bytes.
    const body = Buffer.from(await (await fetch(`${url}/api/catalog`, { headers: { authorization: `Bearer ${issued.token.token}` } })).arrayBuffer());
    await server.close();
    const bytes = Fastify();
    bytes.get('/', (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
    const sameBytes = await measured(await bytes.listen({ port: 0, host: '127.0.0.1' }));
    await bytes.close();
    if (catalog.errors || catalog.non2xx) throw new Error(`/api/catalog answered ${catalog.non2xx} non-2xx and ${catalog.errors} errors`);
    return [
      ['portal.hello_rps', baseline.rps],
      ['portal.hello_p99_ms', baseline.p99],
      ['portal.hello_cpu_us', baseline.cpuUsPerRequest],
      ['portal.catalog_rps', catalog.rps],
      ['portal.catalog_p99_ms', catalog.p99],
      ['portal.catalog_ratio', catalog.rps / baseline.rps],
      ['portal.catalog_cpu_us', catalog.cpuUsPerRequest],
      ['portal.catalog_cpu_ratio', baseline.cpuUsPerRequest / catalog.cpuUsPerRequest],
      ['portal.catalog_bytes', body.length],
      ['portal.same_bytes_rps', sameBytes.rps],
      ['portal.catalog_same_bytes_ratio', catalog.rps / sameBytes.rps],
      ['portal.health_rps', health.rps],
      ['portal.health_p99_ms', health.p99],
      ['portal.health_ratio', health.rps / baseline.rps],
      ['portal.health_cpu_us', health.cpuUsPerRequest],
      ['portal.health_cpu_ratio', baseline.cpuUsPerRequest / health.cpuUsPerRequest],
      ['portal.connections', CONNECTIONS],
      ['portal.duration_s', DURATION_S],
    ];
  } finally {
    await broker.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
