/** The web app as a fastify plugin: for now the health route; the portal issue fills in pages and APIs. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AdaConfig } from '../config/index.ts';
import type { SyncState } from '../pipeline/index.ts';

/** What the app reads from the broker. */
export interface AppDeps {
  config: AdaConfig;
  /** Current sync state (kept up to date by the serve loop). */
  syncState(): SyncState;
  /** Position of the log head and of each projection, for lag. */
  positions(): { head: number; projections: Record<string, number> };
  /** Tables currently syncing. */
  running(): string[];
}

/** Health of the broker as `/health` reports it. */
export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  reasons: string[];
  checks: Record<string, unknown>;
}

/** Folds sync state into a health report: a failing table makes the broker degraded. */
export function healthOf(deps: AppDeps): HealthReport {
  const state = deps.syncState();
  const reasons: string[] = [];
  const tables: Record<string, unknown> = {};
  for (const t of deps.config.tables) {
    const s = state.tables[t.name];
    const failing = s?.lastRun?.status === 'failed';
    if (failing) reasons.push(`table ${t.name}: last sync failed: ${s?.lastRun?.error?.message ?? 'unknown error'}`);
    tables[t.name] = {
      status: failing ? 'failing' : s?.published ? 'ok' : 'never_published',
      lastSuccess: s?.lastSuccess?.at ?? null,
      lastError: s?.lastRun?.status === 'failed' ? s.lastRun.error : null,
      rows: s?.published?.rows ?? null,
    };
  }
  const positions = deps.positions();
  return {
    status: reasons.length > 0 ? 'degraded' : 'healthy',
    reasons,
    checks: { tables, running: deps.running(), log: positions },
  };
}

/** The app plugin. */
export function adaApp(deps: AppDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/health', {
      schema: {
        response: {
          200: { type: 'object', additionalProperties: true, properties: { status: { type: 'string' }, reasons: { type: 'array', items: { type: 'string' } }, checks: { type: 'object', additionalProperties: true } } },
          503: { type: 'object', additionalProperties: true, properties: { status: { type: 'string' }, reasons: { type: 'array', items: { type: 'string' } }, checks: { type: 'object', additionalProperties: true } } },
        },
      },
    }, async (_req, reply) => {
      const report = healthOf(deps);
      return reply.code(report.status === 'unhealthy' ? 503 : 200).send(report);
    });
  };
}
