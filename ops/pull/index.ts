/** Public face of the analyst side: pull, the local catalog, DuckDB views and guides. */
export { pull, PULL_CONCURRENCY } from './pull.ts';
export type { PullOptions, PullProgress, PullResult } from './pull.ts';
export { pullLayout } from './layout.ts';
export type { PullLayout } from './layout.ts';
export { resolveSettings, readSettings } from './settings.ts';
export { buildViews, sqlIdent, sqlString } from './duckdb-views.ts';
export { readLocalCatalog } from './local-catalog.ts';
export type { LocalTable } from './local-catalog.ts';
export { writeGuides, guideText, guideFiles } from './guide.ts';
export type { GuideFiles } from './guide.ts';
export { adaCommand } from './ada-command.ts';
export { lockPull } from './pull-lock.ts';
