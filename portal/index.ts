/** Public face of `portal/`: the fastify app and server, and the notification gateway. */
export { adaApp, redactHealth } from './app.ts';
export type { AppDeps, PortalLog, PortalPrincipal } from './app.ts';
export { assertDevModeHost } from './auth/routes.ts';
export { loadMetrics } from './data/metrics.ts';
export { whenHeadMoves } from './data/head-memo.ts';
export type { MetricDefinition } from './data/metrics.ts';
export { buildServer } from './server.ts';
export { notificationGateway } from './notifications/index.ts';
export { authPlugin, bearerToken, requireRole, seesPrivate } from './auth-plugin.ts';
export type { Authenticate, AuthPluginOptions, Credential } from './auth-plugin.ts';
export { errorResponse, installErrorHandler, HTTP_STATUS_BY_CODE } from './error-handler.ts';
export { PortalErrorCode } from './errors.ts';
export type { ErrorBody } from './error-handler.ts';
export { distributionApi } from './distribution/index.ts';
export type { DistributionDeps } from './distribution/index.ts';
