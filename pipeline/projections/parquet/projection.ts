/**
 * The Parquet projection: rebuilds published tables from the log. Every `TablePublished` event
 * names a run whose staged chunks (claim checks) are in the log; the projection applies those runs
 * in order through the same writer the live sync uses, and checks the rebuilt content hash.
 */
import type { AdaConfig } from '../../../config/index.ts';
import { defineProjection } from '../../projection.ts';
import type { Projection } from '../../projection.ts';
import { ParquetWriter } from './writer.ts';
import type { StagedChunk } from './writer.ts';

/** A run as the log describes it. */
interface RunState {
  table: string;
  mode?: 'replace' | 'upsert';
  /** Position of the run's TableStagingCompleted. */
  position?: number;
  chunks: StagedChunk[];
}

/** State of the Parquet projection: runs not yet applied, and published runs to apply. */
export interface ParquetProjectionState {
  runs: Record<string, RunState>;
  outbox: Array<{ runId: string; contentHash: string }>;
}

/** Where the projection reports content-hash mismatches and skipped runs. */
export interface ParquetProjectionLogger {
  warn(message: string): void;
}

/** Creates the Parquet projection over a configuration and a writer. */
export function parquetProjection(deps: { config: AdaConfig; writer: () => Promise<ParquetWriter>; logger?: ParquetProjectionLogger }): Projection<ParquetProjectionState> {
  const warn = (m: string): void => deps.logger?.warn(m);
  return defineProjection<ParquetProjectionState>({
    name: 'parquet',
    version: 1,
    handles: ['TableChunkStaged', 'TableStagingCompleted', 'TablePublished', 'SyncFailed'],
    initialState: () => ({ runs: {}, outbox: [] }),
    evolve(state, e) {
      switch (e.type) {
        case 'TableChunkStaged': {
          const run = state.runs[e.data.runId] ?? { table: e.data.table, chunks: [] };
          const chunk: StagedChunk = { blob: e.data.blob, rows: e.data.rows, schema: e.data.schema };
          return { ...state, runs: { ...state.runs, [e.data.runId]: { ...run, chunks: [...run.chunks, chunk] } } };
        }
        case 'TableStagingCompleted': {
          const run = state.runs[e.data.runId] ?? { table: e.data.table, chunks: [] };
          return { ...state, runs: { ...state.runs, [e.data.runId]: { ...run, mode: e.data.mode, position: e.position } } };
        }
        case 'TablePublished':
          return { ...state, outbox: [...state.outbox, { runId: e.data.runId, contentHash: e.data.contentHash }] };
        case 'SyncFailed': {
          if (!state.runs[e.data.runId] || state.outbox.some((o) => o.runId === e.data.runId)) return state;
          const { [e.data.runId]: _dropped, ...runs } = state.runs;
          return { ...state, runs };
        }
        default:
          return state;
      }
    },
    async sink(state) {
      if (state.outbox.length === 0) return state;
      const writer = await deps.writer();
      const runs = { ...state.runs };
      for (const { runId, contentHash } of state.outbox) {
        const run = runs[runId];
        delete runs[runId];
        const table = run && deps.config.tables.find((t) => t.name === run.table);
        if (!run || !run.mode || run.position === undefined || !table) {
          warn(`replay: run ${runId} of table ${run?.table ?? '?'} cannot be applied (${!table ? 'the table is no longer configured' : 'its staged chunks are not in the log'})`);
          continue;
        }
        const { result, alreadyApplied } = await writer.apply({ runId, table, mode: run.mode, position: run.position, chunks: run.chunks });
        if (alreadyApplied && result.runId !== runId) continue;
        if (result.contentHash !== contentHash) {
          warn(`replay: table ${table.name} run ${runId} rebuilt with content hash ${result.contentHash}, the log recorded ${contentHash}`);
        }
      }
      return { runs, outbox: [] };
    },
    reset: ({ dataDir }) => ParquetWriter.reset(dataDir),
  });
}
