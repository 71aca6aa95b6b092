/** Public face of `pipeline/`: the connector contract, bus, projection runner, scheduler and projections. */
export type * from './contract.ts';
export * from './column-types.ts';
export * from './sql/where-filters.ts';
export * from './errors.ts';
export * from './projection.ts';
export * from './projection-runner.ts';
export * from './bus.ts';
export * from './projections/sync-state/projection.ts';
export * from './projections/catalog/projection.ts';
export { ParquetWriter } from './projections/parquet/writer.ts';
export type { AppliedRun, StagedRun, StagedChunk } from './projections/parquet/writer.ts';
export { parquetReactor, recordPublished } from './projections/parquet/reactor.ts';
export type { ParquetReactor, ParquetReactorState, ParquetReactorDeps, RunOutcome } from './projections/parquet/reactor.ts';
export * from './scheduler/timers.ts';
export * from './scheduler/scheduler.ts';
export * from './projections/timers/projection.ts';
export * from './projections/health/health.ts';
export * from './duckdb-runs.ts';
export * from './connector-setup.ts';
export * from './projections/access/index.ts';
export * from './projections/profiler/index.ts';
// The notifications' Principal is the access projection's, narrowed; the access one is exported above.
export { MAX_MESSAGE_CHARS, NOTIFYING_EVENTS, tablePrivacy, toNotification, visibleTo } from './projections/notifications/index.ts';
export type { IsPrivate, Notification, NotificationConfig, NotificationLevel } from './projections/notifications/index.ts';
export * from './sql/temporal.ts';
export * from './disk-full.ts';
export * from './broker/index.ts';
export * from './projections/manifest/index.ts';
