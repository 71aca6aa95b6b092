/** Public face of `portal/`: the fastify app and server. */
export { adaApp } from './app.ts';
export type { AppDeps } from './app.ts';
export { buildServer } from './server.ts';
