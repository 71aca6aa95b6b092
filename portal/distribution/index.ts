/** Public face of the distribution API. */
export { distributionApi } from './plugin.ts';
export type { DistributionDeps } from './plugin.ts';
export { decideRange } from './file-range.ts';
export { normalizeRequestPath } from './safe-path.ts';
