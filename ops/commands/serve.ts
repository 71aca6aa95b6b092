/** `ada serve`: runs the broker (timers, health loop, control socket) and the web server until interrupted. */
import path from 'node:path';
import { adaError } from '../../events/index.ts';
import { checkpointsDirOf, ProjectionRunner, readProfiles } from '../../pipeline/index.ts';
import { CheckpointStore } from '../../events/index.ts';
import type { AdaConfig } from '../../config/index.ts';
import type { AccessState, CatalogState, SyncState } from '../../pipeline/index.ts';
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { ConnectorRegistry, startServices } from '../../connectors/index.ts';
import type { RunningService } from '../../connectors/index.ts';
import { openBroker } from '../connect.ts';
import { distributionDeps } from '../distribution-deps.ts';
import { startControlServer } from '../control/server.ts';
import { brokerLogger, serveLogger } from '../serve-logger.ts';
import { UsageError } from '../usage-error.ts';
import { OpsErrorCode } from '../errors.ts';

/** The error of a web server that cannot listen, saying what to do about it. */
export function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return adaError(OpsErrorCode.portInUse, `port ${port} on ${host} is already in use by another process: choose a free port with --port, or stop the process listening on ${host}:${port}`, { host, port }, err);
  }
  if (code === 'EACCES') {
    return adaError(OpsErrorCode.portForbidden, `this user may not listen on port ${port}: choose a port above 1023 with --port`, { host, port }, err);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EINVAL') {
    return adaError(OpsErrorCode.badHost, `cannot listen on ${host} (${code}): --host must be an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`, { host, port }, err);
  }
  return err;
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
    const logger = serveLogger(ctx);
    // Connectors that run inside the server (Jira's webhook, timers) add their health checks to the registry's.
    const services: RunningService[] = [];
    const connectors = (c: AdaConfig) => {
      const registry = new ConnectorRegistry(c);
      return {
        get: (source: string) => registry.get(source),
        healthChecks: async (hc: { dataDir: string; now: Date }) => [...await registry.healthChecks(hc), ...(await Promise.all(services.map((s) => s.healthChecks(hc.now)))).flat()],
        close: () => registry.close(),
      };
    };
    const broker = await openBroker(values, ctx, 'serve', brokerLogger(logger), connectors);
    // Everything started is stopped whatever fails next, so a failed start leaves no lock, socket or timer behind.
    const stops: Array<() => Promise<void>> = [];
    try {
      // The web stack loads only for serve, keeping other commands' start-up short.
      const { buildServer, assertDevModeHost, loadMetrics, whenHeadMoves } = await import('../../portal/index.ts');
      assertDevModeHost(broker.config.instance.auth.mode, host);
      // Pages read projection state, caught up only when the log head has moved since the last read.
      const caughtUp = <S>(name: string): (() => Promise<S>) => whenHeadMoves(() => broker.log.head, () => broker.stateOf<S>(name));
      const accessState = caughtUp<AccessState>('access');
      const server = await buildServer({
        config: broker.config,
        health: () => broker.health(),
        authenticate: ({ token }) => (token ? broker.authenticate(token) : undefined),
        notifications: { log: broker.log, revoked$: broker.revoked$() },
        access: accessState,
        distribution: distributionDeps(broker, accessState),
        catalog: caughtUp<CatalogState>('catalog'),
        syncState: caughtUp<SyncState>('sync-state'),
        profiles: () => readProfiles(broker.dataDir),
        metrics: () => loadMetrics(path.join(broker.config.configDir, 'metrics'), (m) => logger.warn(`metrics: ${m}`)),
        events: broker.log,
        append: (e) => broker.log.append(e),
        sync: (tables) => broker.sync({ tables, trigger: 'api', by: 'portal' }),
        ...(broker.config.instance.server.hostname ? { publicUrl: `https://${broker.config.instance.server.hostname}` } : {}),
      }, { logger });
      stops.push(() => server.close().then(() => undefined));
      for (const service of await startServices({ config: broker.config, env: ctx.env, log: broker.log, blobs: broker.blobs, runner: new ProjectionRunner(broker.log, new CheckpointStore(checkpointsDirOf(broker.dataDir)), broker.dataDir), dataDir: broker.dataDir, warn: (m) => logger.warn(m), lastFired: await broker.lastFiredTimes() })) {
        services.push(service);
        stops.push(() => service.stop());
        await server.register(service.routes);
      }
      // Listen first: a port in use fails before any timer is armed.
      const address = await server.listen({ port, host }).catch((err: unknown) => {
        throw listenError(err, host, port);
      });
      await broker.start();
      // Other ada commands reach the server through this socket; without it they report the lock instead.
      try {
        stops.unshift(await startControlServer(broker.dataDir, broker, { logger: logger.child({ socket: 'control' }) }));
      } catch (err) {
        logger.warn({ err }, `control socket unavailable (${(err as Error).message}): other ada commands cannot reach this server while it runs`);
      }
      logger.info({ address, dataDir: broker.dataDir }, `ada serving ${broker.config.instance.instance.name} on ${address} (data: ${broker.dataDir}); Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      logger.info('stopping…');
      return 0;
    } finally {
      for (const stop of stops) await stop().catch((err: unknown) => logger.error({ err }, 'stopping failed'));
      await broker.close();
      logger.flush();
    }
  },
};

/** `ada serve`. */
export const serveCommands: Command[] = [serve];
