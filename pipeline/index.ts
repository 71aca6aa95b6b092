/** Public face of `pipeline/`: the connector contract, bus, projection runner, scheduler and projections. */
export type * from './contract.ts';
export * from './column-types.ts';
export * from './sql/where-filters.ts';
export * from './projection.ts';
export * from './projection-runner.ts';
export * from './bus.ts';
export * from './projections/sync-state/projection.ts';
export * from './projections/catalog/projection.ts';
export { ParquetWriter } from './projections/parquet/writer.ts';
export type { AppliedRun, StagedRun, StagedChunk } from './projections/parquet/writer.ts';
export { parquetProjection } from './projections/parquet/projection.ts';
export * from './scheduler/timers.ts';
export * from './scheduler/scheduler.ts';
export * from './projections/timers/projection.ts';
export * from './projections/health/health.ts';
export * from './duckdb-runs.ts';
export * from './broker/index.ts';
