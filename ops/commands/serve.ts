/** `ada serve`: runs the timers and the web server until interrupted. */
import { concatMap, filter, Subject } from 'rxjs';
import { authenticateToken } from '../../pipeline/projections/access/index.ts';
import type { AccessState } from '../../pipeline/projections/access/index.ts';
import { evaluateHealth, healthProjection, startScheduler, timerSpecs, timersProjection } from '../../pipeline/index.ts';
import type { HealthReport, HealthState, SyncOutcome, TimersState } from '../../pipeline/index.ts';
import { adaError } from '../../events/index.ts';
import { startControlServer } from '../control.ts';
import { diskUse, loadNow } from '../health.ts';
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { openBroker } from '../broker.ts';
import { distributionDeps } from '../distribution-deps.ts';
import type { Broker } from '../broker.ts';
import { progressLine } from './sync.ts';
import { UsageError } from './events.ts';

/** How often the serve loop re-evaluates health (timers and freshness change with the clock, not only with events). */
const HEALTH_INTERVAL_MS = 30_000;

/** The running broker loop: what syncs now, the health report, and how to stop. */
export interface BrokerLoop {
  running: Set<string>;
  health(): Promise<HealthReport>;
  stop(): Promise<void>;
}

/** Evaluates the broker's health now (projections caught up first). */
export async function brokerHealth(broker: Broker, timersActive: boolean): Promise<HealthReport> {
  const { runner } = broker;
  await runner.catchUp(healthProjection);
  const state = runner.stateOf(healthProjection) as HealthState;
  const now = new Date();
  const projections = Object.fromEntries(Object.keys(broker.projections).map((n) => [n, runner.positionOf(n)]));
  return evaluateHealth(state, {
    config: broker.config, specs: timerSpecs(broker.config), now, timersActive,
    head: broker.log.head, projections,
    disk: await diskUse(broker.dataDir), load: loadNow(),
    connectorChecks: await broker.connectors.healthChecks({ dataDir: broker.dataDir, now }),
  });
}

/** A queued run: tables to sync, who asked, and (for on-demand syncs) who waits for the outcome. */
interface QueuedRun {
  tables: string[];
  by: string;
  trigger: 'timer' | 'api';
  done?: (outcomes: SyncOutcome[]) => void;
  failed?: (err: unknown) => void;
}

/** Runs timers and queued syncs for an open broker; returns a stop function. */
export async function startBrokerLoop(broker: Broker, log: (m: string) => void, signal: AbortSignal): Promise<BrokerLoop> {
  const { runner, projections } = broker;
  await broker.bus.recoverInterrupted();
  const { profiler, ...others } = projections;
  const catchUpAll = async (): Promise<void> => {
    for (const p of Object.values(others)) await runner.catchUp(p);
  };
  // Profiling runs on its own chain (in a child process) so a big table never holds up the next sync.
  let profiling: Promise<void> = Promise.resolve();
  const profileSoon = (): void => {
    if (!profiler) return;
    profiling = profiling.then(() => runner.catchUp(profiler)).then(() => undefined, (err: unknown) => log(`profiler: ${(err as Error).message}`));
  };
  await catchUpAll();
  profileSoon();
  const running = new Set<string>();
  const queue = new Subject<QueuedRun>();
  let idle: Promise<void> = Promise.resolve();
  let markIdle: () => void = () => undefined;
  let lastStatus: HealthReport['status'] | 'unknown' = 'unknown';
  const health = async (): Promise<HealthReport> => {
    const report = await brokerHealth(broker, true);
    if (report.status !== lastStatus) {
      const previous = lastStatus;
      lastStatus = report.status;
      await broker.log.append({ type: 'HealthChanged', v: 1, source: 'serve', data: { status: report.status, previous, reasons: report.reasons } });
      log(`health: ${report.status}${report.reasons.length ? ` (${report.reasons.join('; ')})` : ''}`);
    }
    return report;
  };
  // One run at a time: timers and on-demand syncs share the queue, so runs never overlap.
  const sub = queue.pipe(concatMap(async (run) => {
    idle = new Promise((r) => (markIdle = r));
    try {
      const configs = broker.config.tables.filter((t) => run.tables.includes(t.name));
      log(`${run.by}: syncing ${run.tables.join(', ')}`);
      const outcomes = await broker.bus.syncTables(configs, { trigger: run.trigger, signal, onProgress: (p) => { if (p.phase === 'done' || p.phase === 'failed') log(progressLine(p)); } });
      await catchUpAll();
      profileSoon();
      await health();
      run.done?.(outcomes);
    } catch (err) {
      log(`${run.by}: ${(err as Error).message}`);
      run.failed?.(err);
    } finally {
      for (const t of run.tables) running.delete(t);
      markIdle();
    }
  })).subscribe();
  const enqueue = (run: QueuedRun): void => {
    for (const t of run.tables) running.add(t);
    queue.next(run);
  };
  const timers = runner.stateOf(timersProjection as never) as TimersState;
  const lastFired = new Map(Object.entries(timers.timers).flatMap(([name, t]) => (t.lastFired ? [[name, new Date(t.lastFired.scheduledAt)] as const] : [])));
  const specs = timerSpecs(broker.config);
  const scheduler = startScheduler({
    specs,
    lastFired,
    append: (e) => broker.log.append(e),
    isRunning: (t) => running.has(t),
    startRun: (tables, timer) => enqueue({ tables, by: `timer ${timer}`, trigger: 'timer' }),
    onError: (err) => log(`timer error: ${(err as Error).message}`),
  });
  for (const s of specs) log(`timer ${s.name}: "${s.cron}" (UTC) for ${s.tables.join(', ')}`);
  await health();
  const healthTimer = setInterval(() => void health().catch((err: unknown) => log(`health: ${(err as Error).message}`)), HEALTH_INTERVAL_MS);
  // Other ada commands reach the server through this socket; without it they report the lock instead.
  let stopControl: () => Promise<void> = async () => undefined;
  try {
    stopControl = await startControlServer(broker.dataDir, {
      append: (events) => Promise.all(events.map((e) => broker.log.append(e))),
      sync: (tables) => {
        const names = tables.length ? tables : broker.config.tables.map((t) => t.name);
        const unknown = names.filter((n) => !broker.config.tables.some((t) => t.name === n));
        if (unknown.length) return Promise.reject(adaError('BAD_ARGUMENT', `unknown table ${unknown.join(', ')}`));
        return new Promise((done, failed) => enqueue({ tables: names, by: 'ada sync (via control socket)', trigger: 'api', done, failed }));
      },
      health,
    });
  } catch (err) {
    log(`control socket unavailable (${(err as Error).message}): other ada commands cannot reach this server while it runs`);
  }
  return {
    running,
    health,
    async stop() {
      clearInterval(healthTimer);
      await stopControl();
      scheduler.unsubscribe();
      queue.complete();
      await idle;
      await profiling;
      sub.unsubscribe();
    },
  };
}

const serve: Command = {
  name: 'serve',
  summary: 'Run the broker: timers that sync tables on schedule, and the web server (GET /health)',
  usage: 'ada serve [--port 3000] [--host 127.0.0.1] [--config DIR] [--data DIR]',
  options: { ...commonOptions, port: { type: 'string', short: 'p' }, host: { type: 'string' } },
  async run({ values }, ctx) {
    const port = Number(values.port ?? ctx.env.PORT ?? 3000);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects a port number, got ${JSON.stringify(values.port)}`);
    const host = (values.host as string | undefined) ?? '127.0.0.1';
    const broker = await openBroker({ configDir: values.config as string | undefined, dataDir: values.data as string | undefined, env: ctx.env, eventSource: 'serve', warn: (m) => ctx.err(`warning: ${m}`), signal: ctx.signal });
    const log = (m: string): void => ctx.err(`${new Date().toISOString()} ${m}`);
    try {
      const loop = await startBrokerLoop(broker, log, ctx.signal);
      // The web stack loads only for serve, keeping other commands' start-up short.
      const { buildServer } = await import('../../portal/index.ts');
      const access = broker.projections.access!;
      const accessState = async (): Promise<AccessState> => {
        await broker.runner.catchUp(access);
        return broker.runner.stateOf(access) as AccessState;
      };
      // Sockets of a revoked token or removed analyst close once the access state has applied the change.
      const revoked$ = broker.log.follow$(broker.log.head + 1).pipe(
        filter((e) => e.type === 'TokenRevoked' || e.type === 'AnalystRemoved'),
        concatMap(async (e) => {
          await accessState();
          return { name: (e.data as { name: string }).name };
        }),
      );
      const server = await buildServer({
        config: broker.config,
        health: () => loop.health(),
        authenticate: async ({ token }) => (token ? authenticateToken(await accessState(), broker.config, token) : undefined),
        notifications: { log: broker.log, revoked$ },
        distribution: distributionDeps(broker, accessState),
      });
      const address = await server.listen({ port, host });
      ctx.out(`ada serving ${broker.config.instance.instance.name} on ${address} (data: ${broker.dataDir}); Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      log('stopping…');
      await server.close();
      await loop.stop();
      return 0;
    } finally {
      await broker.close();
    }
  },
};

/** `ada serve`. */
export const serveCommands: Command[] = [serve];
