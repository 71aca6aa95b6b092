/** The portal's web layer: security headers, CSRF, rate limits, static assets, sign-in routes and pages. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import csrf from '@fastify/csrf-protection';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessState } from '../pipeline/index.ts';
import type { HealthReport } from '../pipeline/index.ts';
import type { AppDeps } from './deps.ts';
import { authRoutes } from './auth/routes.ts';
import { securityHeadersPlugin } from './security-headers.ts';
import { LogIndex } from './data/log-index.ts';
import { dashboardRoutes } from './pages/dashboard.ts';
import { catalogRoutes } from './pages/catalog.ts';
import { metricsRoutes } from './pages/metrics.ts';
import { statusRoutes } from './pages/status.ts';
import { eventRoutes } from './pages/events.ts';
import { accountRoutes } from './pages/account.ts';
import { adminRoutes } from './pages/admin.ts';
import { WEB_LIMITS } from './web-deps.ts';
import type { WebDeps } from './web-deps.ts';

export { WEB_LIMITS } from './web-deps.ts';
export type { WebDeps } from './web-deps.ts';


const ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');


/** The web plugin (registered by `adaApp` after sessions and auth). */
export function portalWeb(deps: AppDeps & { health(): Promise<HealthReport>; access(): Promise<AccessState> }): FastifyPluginAsync {
  return fp(async (app: FastifyInstance) => {
    const web: WebDeps = { ...deps, index: new LogIndex(deps.events) };
    await app.register(securityHeadersPlugin);
    await app.register(rateLimit, { global: false });
    await app.register(csrf, { sessionPlugin: '@fastify/secure-session' });
    await app.register(fastifyStatic, { root: ASSETS, prefix: '/assets/', decorateReply: false, maxAge: 3600_000 });
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: WEB_LIMITS.formBodyBytes }, (_req, body, done) => {
      const form: Record<string, string | string[]> = {};
      for (const [k, v] of new URLSearchParams(body as string)) {
        const prev = form[k];
        form[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      done(null, form);
    });
    await authRoutes(app, web);
    await dashboardRoutes(app, web);
    await catalogRoutes(app, web);
    await metricsRoutes(app, web);
    await statusRoutes(app, web);
    await eventRoutes(app, web);
    await accountRoutes(app, web);
    await adminRoutes(app, web);
  }, { name: 'ada-portal-web' });
}
