/** The web app as a fastify plugin: health, the notification gateway; the portal issue fills in pages and APIs. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AdaConfig } from '../config/index.ts';
import { healthForViewer } from '../pipeline/index.ts';
import type { HealthReport } from '../pipeline/index.ts';
import { notificationGateway } from './notifications/index.ts';
import type { NotificationGatewayDeps } from './notifications/index.ts';
import { authPlugin, seesPrivate } from './auth-plugin.ts';
import type { Authenticate } from './auth-plugin.ts';

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
}

const healthSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    status: { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] },
    reasons: { type: 'array', items: { type: 'string' } },
    problems: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: { type: 'string' }, table: { type: 'string' }, message: { type: 'string' } } },
    },
    checkedAt: { type: 'string' },
    checks: { type: 'object', additionalProperties: true },
  },
} as const;

/**
 * The health report as someone who may not see private tables gets it: problems about them are removed by
 * their `table` field and counted, their checks are left out. A table the configuration does not know is
 * treated as private.
 */
export function redactHealth(report: HealthReport, config: AdaConfig): HealthReport {
  const privacy = new Map(config.tables.map((t) => [t.name, t.private]));
  return healthForViewer(report, (table) => privacy.get(table) ?? true);
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
  };
}
