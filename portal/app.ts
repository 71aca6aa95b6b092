/** The web app as a fastify plugin: for now the health route; the portal issue fills in pages and APIs. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AdaConfig } from '../config/index.ts';
import type { HealthReport } from '../pipeline/index.ts';

/** What the app reads from the broker. */
export interface AppDeps {
  config: AdaConfig;
  /** The current health report. */
  health(): Promise<HealthReport>;
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

/** The app plugin. */
export function adaApp(deps: AppDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get('/health', { schema: { response: { 200: healthSchema, 503: healthSchema } } }, async (_req, reply) => {
      const report = await deps.health();
      return reply.code(report.status === 'healthy' ? 200 : 503).send(report);
    });
  };
}
