/** Public face of `portal/`: the fastify app and server, and the notification gateway. */
export { adaApp, redactHealth } from './app.ts';
export type { AppDeps, PortalPrincipal } from './app.ts';
export { buildServer } from './server.ts';
export { notificationGateway } from './notifications/index.ts';
