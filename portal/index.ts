/** Public face of `portal/`: the fastify app and server. */
export { adaApp, healthOf } from './app.ts';
export type { AppDeps, HealthReport } from './app.ts';
export { buildServer } from './server.ts';
