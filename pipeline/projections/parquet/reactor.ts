/**
 * The Parquet reactor: the one write path of published tables. It follows the log; when a run's staging completes it
 * applies the run's staged chunks (claim checks) through the writer and appends `SchemaChanged` and `TablePublished`.
 * The live sync drives it right after staging; a replay rebuilds aside through the same writer (see rebuild.ts).
 */
import type { AdaConfig } from '../../../config/index.ts';
import { assertNever } from '../../../events/index.ts';
import type { BlobStore, NewEvent } from '../../../events/index.ts';
import { defineReactor } from '../../projection.ts';
import type { Projection } from '../../projection.ts';
import { rebuildAside } from './rebuild.ts';
import { publishedData } from './writer.ts';
import type { ParquetWriter, AppliedRun, StagedChunk } from './writer.ts';

/** A run as the log describes it. */
interface RunState {
  table: string;
  mode?: 'replace' | 'upsert';
  /** Position of the run's TableStagingCompleted. */
  position?: number;
  chunks: StagedChunk[];
  published?: boolean;
}

/** State of the reactor: runs being staged, completed runs to apply (in log order), tables whose history is broken. */
export interface ParquetReactorState {
  runs: Record<string, RunState>;
  ready: string[];
  /** Table → position of its `TableHistoryBroken`. */
  broken: Record<string, number>;
}

/** How applying a run ended, for the sync that staged it. */
export type RunOutcome = { ok: true; result: AppliedRun } | { ok: false; error: unknown };

/** Where the reactor reports runs it cannot apply. */
export interface ParquetReactorLogger {
  warn(message: string): void;
}

/** The event types the Parquet reactor folds. */
export const PARQUET_EVENTS = ['TableChunkStaged', 'TableStagingCompleted', 'TablePublished', 'SyncFailed', 'TableHistoryBroken', 'TableHistoryRestarted'] as const;

/** The Parquet reactor: a projection plus the outcomes of the runs it applied, for the bus. */
export interface ParquetReactor extends Projection<ParquetReactorState, (typeof PARQUET_EVENTS)[number]> {
  /** The outcome of a run applied since the reactor was created, once; undefined when this reactor did not apply it. */
  takeOutcome(runId: string): RunOutcome | undefined;
}

/** What the reactor works with. */
export interface ParquetReactorDeps {
  config: AdaConfig;
  blobs: BlobStore;
  writer: () => Promise<ParquetWriter>;
  append: (event: NewEvent) => Promise<unknown>;
  logger?: ParquetReactorLogger;
}

/** Appends what a publish changed: `SchemaChanged` when the schema did, then `TablePublished` (idempotent by run). */
export async function recordPublished(append: ParquetReactorDeps['append'], strategy: string, result: AppliedRun): Promise<void> {
  const { runId, table } = result;
  if (result.schemaChange) {
    await append({ type: 'SchemaChanged', v: 1, key: `${runId}:schema`, data: { runId, table, ...result.schemaChange } });
  }
  await append({ type: 'TablePublished', v: 1, key: `published:${runId}`, data: publishedData(strategy, result) });
}

/** Creates the Parquet reactor over a configuration, the blob store, a writer and the log's append. */
export function parquetReactor(deps: ParquetReactorDeps): ParquetReactor {
  const outcomes = new Map<string, RunOutcome>();
  const warn = (m: string): void => deps.logger?.warn(m);
  const projection = defineReactor({
    name: 'parquet',
    // 2: the reactor's state (v1 was the replay-only projection's); it refolds from 0 without deleting anything.
    version: 2,
    handles: PARQUET_EVENTS,
    initialState: (): ParquetReactorState => ({ runs: {}, ready: [], broken: {} }),
    evolve(state, e) {
      switch (e.type) {
        case 'TableChunkStaged': {
          const run = state.runs[e.data.runId] ?? { table: e.data.table, chunks: [] };
          const chunk: StagedChunk = { blob: e.data.blob, rows: e.data.rows, schema: e.data.schema };
          return { ...state, runs: { ...state.runs, [e.data.runId]: { ...run, chunks: [...run.chunks, chunk] } } };
        }
        case 'TableStagingCompleted': {
          const run = state.runs[e.data.runId] ?? { table: e.data.table, chunks: [] };
          if (e.data.mode === 'upsert' && run.chunks.length === 0) {
            // An upsert of no rows changes nothing and is never published.
            const { [e.data.runId]: _empty, ...runs } = state.runs;
            return { ...state, runs };
          }
          return { ...state, runs: { ...state.runs, [e.data.runId]: { ...run, mode: e.data.mode, position: e.position } }, ready: [...state.ready, e.data.runId] };
        }
        case 'TablePublished': {
          const run = state.runs[e.data.runId];
          return run ? { ...state, runs: { ...state.runs, [e.data.runId]: { ...run, published: true } } } : state;
        }
        case 'SyncFailed': {
          // A run that failed before it was published is never applied (an interrupted run's cursor did not advance).
          const run = state.runs[e.data.runId];
          if (!run || run.published) return state;
          const { [e.data.runId]: _dropped, ...runs } = state.runs;
          return { ...state, runs, ready: state.ready.filter((id) => id !== e.data.runId) };
        }
        case 'TableHistoryBroken':
          return { ...state, broken: { ...state.broken, [e.data.table]: e.position } };
        case 'TableHistoryRestarted': {
          const { [e.data.table]: _restarted, ...broken } = state.broken;
          return { ...state, broken };
        }
        default:
          return assertNever(e);
      }
    },
    async sink(state) {
      if (state.ready.length === 0) return state;
      const writer = await deps.writer();
      const runs = { ...state.runs };
      const broken = { ...state.broken };
      for (const runId of state.ready) {
        const run = runs[runId];
        delete runs[runId];
        const table = run && deps.config.tables.find((t) => t.name === run.table);
        if (!run || !run.mode || run.position === undefined || !table) {
          warn(`parquet: run ${runId} of table ${run?.table ?? '?'} cannot be applied (${!table ? 'the table is no longer configured' : 'its staged chunks are not in the log'})`);
          continue;
        }
        try {
          const { result, alreadyApplied } = await writer.apply({ runId, table, mode: run.mode, position: run.position, chunks: run.chunks });
          if (alreadyApplied && result.runId !== runId) continue;
          await recordPublished(deps.append, table.syncStrategy, result);
          const brokenAt = broken[table.name];
          if (run.mode === 'replace' && brokenAt !== undefined) {
            await deps.append({ type: 'TableHistoryRestarted', v: 1, key: `${runId}:history-restarted`, data: { table: table.name, runId, brokenAt } });
            delete broken[table.name];
          }
          outcomes.set(runId, { ok: true, result });
        } catch (err) {
          // The published files stay as they were; the sync that staged the run records the failure.
          outcomes.set(runId, { ok: false, error: err });
          if (run.published) warn(`parquet: table ${table.name} run ${runId} could not be applied: ${(err as Error).message}`);
        }
      }
      return { runs, ready: [], broken };
    },
    async rebuildAside(ctx) {
      const { position, broken } = await rebuildAside({ ...ctx, config: deps.config, blobs: deps.blobs, writer: deps.writer, append: deps.append, warn });
      return { position, state: { runs: {}, ready: [], broken } };
    },
  });
  return {
    ...projection,
    takeOutcome(runId) {
      const o = outcomes.get(runId);
      outcomes.delete(runId);
      return o;
    },
  };
}

