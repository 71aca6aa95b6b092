/** `ada serve`: runs the timers and the web server until interrupted. */
import { concatMap, Subject } from 'rxjs';
import { buildServer } from '../../portal/index.ts';
import { startScheduler, timerSpecs, timersProjection } from '../../pipeline/index.ts';
import type { SyncState, TimersState } from '../../pipeline/index.ts';
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { openBroker } from '../broker.ts';
import type { Broker } from '../broker.ts';
import { progressLine } from './sync.ts';
import { UsageError } from './events.ts';

/** Runs timers and queued syncs for an open broker; returns a stop function. */
export async function startBrokerLoop(broker: Broker, log: (m: string) => void, signal: AbortSignal): Promise<{ running: Set<string>; stop(): Promise<void> }> {
  const { runner, projections } = broker;
  await broker.bus.recoverInterrupted();
  for (const p of [projections['sync-state']!, projections.catalog!, timersProjection]) await runner.catchUp(p as never);
  const running = new Set<string>();
  const queue = new Subject<{ tables: string[]; timer: string }>();
  let idle: Promise<void> = Promise.resolve();
  let markIdle: () => void = () => undefined;
  const sub = queue.pipe(concatMap(async ({ tables, timer }) => {
    idle = new Promise((r) => (markIdle = r));
    try {
      const configs = broker.config.tables.filter((t) => tables.includes(t.name));
      log(`timer ${timer}: syncing ${tables.join(', ')}`);
      const outcomes = await broker.bus.syncTables(configs, { trigger: 'timer', signal, onProgress: (p) => { if (p.phase === 'done' || p.phase === 'failed') log(progressLine(p)); } });
      void outcomes;
      await runner.catchUp(projections.catalog!);
      await runner.catchUp(projections['sync-state']!);
    } catch (err) {
      log(`timer ${timer}: ${(err as Error).message}`);
    } finally {
      for (const t of tables) running.delete(t);
      markIdle();
    }
  })).subscribe();
  const timers = runner.stateOf(timersProjection as never) as TimersState;
  const lastFired = new Map(Object.entries(timers.timers).flatMap(([name, t]) => (t.lastFired ? [[name, new Date(t.lastFired.scheduledAt)] as const] : [])));
  const specs = timerSpecs(broker.config);
  const scheduler = startScheduler({
    specs,
    lastFired,
    append: (e) => broker.log.append(e),
    isRunning: (t) => running.has(t),
    startRun: (tables, timer) => {
      for (const t of tables) running.add(t);
      queue.next({ tables, timer });
    },
    onError: (err) => log(`timer error: ${(err as Error).message}`),
  });
  for (const s of specs) log(`timer ${s.name}: "${s.cron}" (UTC) for ${s.tables.join(', ')}`);
  return {
    running,
    async stop() {
      scheduler.unsubscribe();
      queue.complete();
      await idle;
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
    const broker = await openBroker({ configDir: values.config as string | undefined, dataDir: values.data as string | undefined, env: ctx.env, eventSource: 'serve', warn: (m) => ctx.err(`warning: ${m}`) });
    const log = (m: string): void => ctx.err(`${new Date().toISOString()} ${m}`);
    try {
      const loop = await startBrokerLoop(broker, log, ctx.signal);
      const server = await buildServer({
        config: broker.config,
        syncState: () => broker.runner.stateOf(broker.projections['sync-state']!) as SyncState,
        positions: () => ({ head: broker.log.head, projections: Object.fromEntries(Object.keys(broker.projections).map((n) => [n, broker.runner.positionOf(n)])) }),
        running: () => [...loop.running],
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
