/** The web app as a fastify plugin: health, the notification gateway; the portal issue fills in pages and APIs. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AdaConfig } from '../config/index.ts';
import type { HealthReport } from '../pipeline/index.ts';
import { notificationGateway } from './notifications/index.ts';
import type { NotificationGatewayDeps } from './notifications/index.ts';
import { authPlugin, seesPrivate } from './auth-plugin.ts';
import type { Authenticate } from './auth-plugin.ts';
import { distributionApi } from './distribution/index.ts';
import type { DistributionDeps } from './distribution/index.ts';

export type { PortalPrincipal } from './auth-plugin.ts';

/** What the app reads from the broker. */
export interface AppDeps {
  config: AdaConfig;
  /** The current health report. */
  health(): Promise<HealthReport>;
  /** Resolves a credential (analyst token, later portal session). */
  authenticate: Authenticate;
  /** The notification gateway's log and revocations; without them no websocket route. */
  notifications?: Pick<NotificationGatewayDeps, 'log' | 'revoked$' | 'options'>;
  /** The manifest, subscriptions and data dir of the distribution API; without them no `/api/v1/` routes. */
  distribution?: DistributionDeps;
}

const healthSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    status: { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] },
    reasons: { type: 'array', items: { type: 'string' } },
    checkedAt: { type: 'string' },
    checks: { type: 'object', additionalProperties: true },
  },
} as const;

/**
 * The health report as someone who may not see private tables gets it: their checks are left out
 * and reasons naming them are counted, not shown.
 */
export function redactHealth(report: HealthReport, config: AdaConfig): HealthReport {
  const hidden = config.tables.filter((t) => t.private);
  if (hidden.length === 0) return report;
  const names = hidden.flatMap((t) => [t.name, t.id]);
  const mentions = (r: string): boolean => names.some((n) => new RegExp(`\\b${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(r));
  const kept = report.reasons.filter((r) => !mentions(r));
  const dropped = report.reasons.length - kept.length;
  const tables = Object.fromEntries(Object.entries(report.checks.tables).filter(([n]) => !hidden.some((t) => t.name === n)));
  const timers = Object.fromEntries(Object.entries(report.checks.timers).map(([n, t]) => [n, { ...t, tables: t.tables.filter((x) => !hidden.some((h) => h.name === x)) }]));
  return {
    ...report,
    reasons: dropped ? [...kept, `${dropped} problem${dropped > 1 ? 's' : ''} with restricted tables`] : kept,
    checks: { ...report.checks, tables, timers },
  };
}

/** The app plugin. */
export function adaApp(deps: AppDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    await app.register(authPlugin, { authenticate: deps.authenticate });
    app.get('/health', { schema: { response: { 200: healthSchema, 503: healthSchema } } }, async (req, reply) => {
      const report = await deps.health();
      const visible = seesPrivate(req.principal) ? report : redactHealth(report, deps.config);
      return reply.code(report.status === 'healthy' ? 200 : 503).send(visible);
    });
    if (deps.notifications) {
      await app.register(notificationGateway({
        ...deps.notifications,
        config: deps.config,
        authenticate: deps.authenticate,
        isPrivate: (table) => deps.config.tables.find((t) => t.name === table)?.private ?? true,
      }));
    }
    if (deps.distribution) await app.register(distributionApi({ ...deps.distribution, config: deps.config }));
  };
}
