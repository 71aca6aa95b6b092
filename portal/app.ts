/** The web app as a fastify plugin: health, sign-in and sessions, the portal's pages and their JSON twins, and the notification gateway. */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { HealthReport } from '../pipeline/index.ts';
import { catalogTable } from '../config/index.ts';
import { emptyAccess } from '../pipeline/index.ts';
import { notificationGateway } from './notifications/index.ts';
import { authPlugin, seesPrivate } from './auth-plugin.ts';
import type { AppDeps } from './deps.ts';
import { portalAuthenticate } from './auth/resolve.ts';
import { registerSessions, sessionCredential } from './auth/session.ts';
import { portalWeb } from './web.ts';
import { cachedHealth } from './data/health-cache.ts';
import { AnswerCache, sendAnswer, serializeAnswer } from './data/json-answer.ts';

export type { PortalPrincipal } from './auth-plugin.ts';
export { redactHealth } from './redact-health.ts';
import { redactHealth } from './redact-health.ts';
export type { AppDeps, PortalLog } from './deps.ts';
import { distributionApi } from './distribution/index.ts';

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

/** The app plugin. */
export function adaApp(deps: AppDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const access = deps.access ?? (async () => emptyAccess());
    const authenticate = portalAuthenticate(deps.config, deps.authenticate, access);
    const health = cachedHealth(() => deps.health(), () => deps.events?.head ?? deps.notifications?.log.head ?? 0);
    await registerSessions(app, deps.config.instance.auth.webappSecretKey);
    await app.register(authPlugin, { authenticate, credentials: (req) => sessionCredential(req) });
    // One redaction and one serialisation per report and audience, not per request: reports are reused while the log head stands still.
    const answers = new AnswerCache<HealthReport>(2);
    const sendHealth = (req: FastifyRequest, reply: FastifyReply, report: HealthReport): FastifyReply => {
      const status = report.status === 'healthy' ? 200 : 503;
      const full = seesPrivate(req.principal);
      const key = full ? 'full' : 'public';
      return sendAnswer(req, reply, answers.peek(report, key) ?? answers.get(report, key, () => serializeAnswer(reply, full ? report : redactHealth(report, deps.config), status)), status);
    };
    // Not async: a report that may be reused now is answered without a promise.
    app.get('/health', { schema: { response: { 200: healthSchema, 503: healthSchema } } }, (req, reply) => {
      const report = health.now();
      return report ? sendHealth(req, reply, report) : health().then((r) => sendHealth(req, reply, r));
    });
    if (deps.notifications) {
      await app.register(notificationGateway({
        ...deps.notifications,
        config: deps.config,
        authenticate,
        isPrivate: (table) => catalogTable(deps.config, table)?.private ?? true,
      }));
    }
    await app.register(portalWeb({ ...deps, health, access }));
    if (deps.distribution) await app.register(distributionApi({ ...deps.distribution, config: deps.config }));
  };
}
