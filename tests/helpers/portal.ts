/** A portal over a real broker: a CSV instance synced with the CLI, opened in-process, served by `buildServer` (inject or listen on 127.0.0.1). */
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ConnectorRegistry, loadConfig } from '../../connectors/index.ts';
import { buildServer, loadMetrics, whenHeadMoves } from '../../portal/index.ts';
import type { AppDeps } from '../../portal/index.ts';
import { Broker, readProfiles } from '../../pipeline/index.ts';
import type { AccessState, CatalogState, SyncState } from '../../pipeline/index.ts';

/** An open broker and a portal server over it. */
export interface TestPortal {
  broker: Broker;
  app: FastifyInstance;
  deps: AppDeps;
  /** Tables the test asked to sync through the portal. */
  synced: string[][];
}

/** The portal's deps for an open broker, wired as `ada serve` wires them (sync recorded, not run). */
export function portalDeps(broker: Broker, synced: string[][]): AppDeps {
  const caughtUp = <S>(name: string): (() => Promise<S>) => whenHeadMoves(() => broker.log.head, () => broker.stateOf<S>(name));
  return {
    config: broker.config,
    health: () => broker.health(),
    authenticate: async ({ token }) => (token ? broker.authenticate(token) : undefined),
    access: caughtUp<AccessState>('access'),
    catalog: caughtUp<CatalogState>('catalog'),
    syncState: caughtUp<SyncState>('sync-state'),
    profiles: () => readProfiles(broker.dataDir),
    metrics: () => loadMetrics(path.join(broker.config.configDir, 'metrics')),
    events: broker.log,
    append: (e) => broker.log.append(e),
    sync: async (tables) => {
      synced.push(tables);
    },
  };
}

/** Opens the broker of a synced instance and builds the portal over it; both close when the test ends. */
export async function openPortal(t: Pick<TestContext, 'after'>, flags: { configDir: string; dataDir: string }, extra: Partial<AppDeps> = {}): Promise<TestPortal> {
  const config = await loadConfig({ configDir: flags.configDir, env: {} });
  const broker = await Broker.open({ config, dataDir: flags.dataDir, connectors: (c) => new ConnectorRegistry(c), eventSource: 'test', logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
  const synced: string[][] = [];
  const deps = { ...portalDeps(broker, synced), ...extra };
  const app = await buildServer(deps);
  t.after(async () => {
    await app.close();
    await broker.close();
  });
  return { broker, app, deps, synced };
}

/** The cookies a response sets, as one `cookie` header value merged over `jar`. */
export function cookieJar(jar: string, setCookie: string | string[] | undefined): string {
  const cookies = new Map(jar ? jar.split('; ').map((c) => [c.slice(0, c.indexOf('=')), c] as const) : []);
  for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
    const pair = line.split(';')[0]!;
    const name = pair.slice(0, pair.indexOf('='));
    if (/max-age=0|expires=thu, 01 jan 1970/i.test(line)) cookies.delete(name);
    else cookies.set(name, pair);
  }
  return [...cookies.values()].join('; ');
}

/** The CSRF token of the first form on a page. */
export function csrfOf(page: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!m) throw new Error('no CSRF field on the page');
  return m[1]!;
}
