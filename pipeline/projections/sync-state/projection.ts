/** The sync-state projection: per table, its last run, last success, cursor and published figures. */
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { assertNever, writeFileIfChanged } from '../../../events/index.ts';
import type { ColumnSchema, RecordedError } from '../../../events/index.ts';
import { defineProjector } from '../../projection.ts';
import type { HandledEvent } from '../../projection.ts';

/** What the sync state knows of one table. */
export interface TableSyncState {
  table: string;
  strategy?: string;
  lastRun?: { runId: string; startedAt: string; trigger: string; status: 'running' | 'succeeded' | 'failed'; finishedAt?: string; error?: RecordedError };
  /** The last successful sync: only it advances the cursor. */
  lastSuccess?: { runId: string; at: string; rows: number; durationMs: number };
  cursor?: unknown;
  published?: { runId: string; at: string; rows: number; bytes: number; files: number; columns: ColumnSchema[]; contentHash: string; folder: string };
  consecutiveFailures: number;
}

/** State of the sync-state projection. */
export interface SyncState {
  tables: Record<string, TableSyncState>;
}

function tableOf(state: SyncState, name: string): TableSyncState {
  return state.tables[name] ?? { table: name, consecutiveFailures: 0 };
}

/** The event types the sync state folds. */
export const SYNC_STATE_EVENTS = ['SyncStarted', 'SyncSucceeded', 'SyncFailed', 'TablePublished'] as const;

/** An event the sync state folds. */
export type SyncStateEvent = HandledEvent<(typeof SYNC_STATE_EVENTS)[number]>;

/** Folds sync lifecycle and publish events into per-table sync state. */
export function evolveSyncState(state: SyncState, e: SyncStateEvent): SyncState {
  switch (e.type) {
    case 'SyncStarted': {
      const t = tableOf(state, e.data.table);
      return { tables: { ...state.tables, [e.data.table]: { ...t, strategy: e.data.strategy, lastRun: { runId: e.data.runId, startedAt: e.at, trigger: e.data.trigger, status: 'running' } } } };
    }
    case 'SyncSucceeded': {
      const t = tableOf(state, e.data.table);
      return {
        tables: {
          ...state.tables,
          [e.data.table]: {
            ...t,
            lastRun: t.lastRun?.runId === e.data.runId ? { ...t.lastRun, status: 'succeeded', finishedAt: e.at } : t.lastRun,
            lastSuccess: { runId: e.data.runId, at: e.at, rows: e.data.rows, durationMs: e.data.durationMs },
            cursor: e.data.cursor,
            consecutiveFailures: 0,
          },
        },
      };
    }
    case 'SyncFailed': {
      const t = tableOf(state, e.data.table);
      return {
        tables: {
          ...state.tables,
          [e.data.table]: {
            ...t,
            lastRun: { ...(t.lastRun?.runId === e.data.runId ? t.lastRun : { runId: e.data.runId, startedAt: e.at, trigger: 'manual' }), status: 'failed', finishedAt: e.at, error: e.data.error },
            consecutiveFailures: t.consecutiveFailures + 1,
          },
        },
      };
    }
    case 'TablePublished': {
      const t = tableOf(state, e.data.table);
      const d = e.data;
      return {
        tables: {
          ...state.tables,
          [d.table]: { ...t, strategy: d.strategy, published: { runId: d.runId, at: e.at, rows: d.rows, bytes: d.bytes, files: d.files.length, columns: d.schema, contentHash: d.contentHash, folder: d.folder } },
        },
      };
    }
    default:
      return assertNever(e);
  }
}

/** Path of the sync state file under a data directory. */
export function syncStateFile(dataDir: string): string {
  return path.join(dataDir, 'metadata', 'sync_state.json');
}

/** The projection writing `metadata/sync_state.json`. */
export const syncStateProjection = defineProjector({
  name: 'sync-state',
  version: 1,
  handles: SYNC_STATE_EVENTS,
  initialState: (): SyncState => ({ tables: {} }),
  evolve: evolveSyncState,
  async sink(state, ctx) {
    await mkdir(path.dirname(syncStateFile(ctx.dataDir)), { recursive: true });
    await writeFileIfChanged(syncStateFile(ctx.dataDir), JSON.stringify({ position: ctx.position, ...state }, null, 2));
  },
});
