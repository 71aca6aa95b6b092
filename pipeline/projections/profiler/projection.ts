/**
 * The profiler projection: folds `TablePublished` into the latest publish per table and the tables waiting to be
 * profiled (several publishes of a table between flushes coalesce into its latest), and `TableProfiled` into what
 * was profiled already (so tables `ada profile` did are not done twice). Its sink profiles the waiting tables that
 * are still configured, writing `metadata/profiles.json` and appending `TableProfiled` / `TableProfileFailed`. A rebuild
 * sets profiles.json aside first and keeps the profile of each table whose inputs are unchanged (profile-inputs.ts).
 */
import { rm } from 'node:fs/promises';
import { catalogTable } from '../../../config/index.ts';
import type { AdaConfig } from '../../../config/index.ts';
import { assertNever } from '../../../events/index.ts';
import type { CheckpointStore, EventLog, EventLogReader, NewEvent } from '../../../events/index.ts';
import { defineReactor, handlesEvent } from '../../projection.ts';
import type { HandledEvent, Projection } from '../../projection.ts';
import { profileTables } from './profile-tables.ts';
import { PROFILER_VERSION } from './profile-inputs.ts';
import { previousProfilesFile, readPreviousProfiles, setProfilesAside } from './profiles-file.ts';
import type { ProfileOutcome, ProfileProgress, ProfilerOptions, TablePublish } from './types.ts';

/** Name of the projection (its checkpoint). */
export const PROFILER_PROJECTION = 'profiler';
export { PROFILER_VERSION };

/** State of the profiler projection. */
export interface ProfilerState {
  /** Latest publish of every table. */
  published: Record<string, TablePublish>;
  /** Tables published since the sink last ran, in publish order (each once). */
  pending: string[];
  /** Content hash last recorded as profiled (`TableProfiled`), per table. */
  profiled: Record<string, string>;
}

/** The empty state. */
export function emptyProfilerState(): ProfilerState {
  return { published: {}, pending: [], profiled: {} };
}

/** The event types the profiler folds. */
export const PROFILER_EVENTS = ['TablePublished', 'TableProfiled'] as const;

/** An event the profiler folds. */
export type ProfilerEvent = HandledEvent<(typeof PROFILER_EVENTS)[number]>;

/** Folds one event into the profiler state (pure). */
export function evolveProfiler(state: ProfilerState, e: ProfilerEvent): ProfilerState {
  switch (e.type) {
    case 'TablePublished': {
      const d = e.data;
      const published: TablePublish = {
        table: d.table, folder: d.folder, strategy: d.strategy, files: d.files, rows: d.rows, bytes: d.bytes,
        schema: d.schema, contentHash: d.contentHash, publishedAt: e.at,
      };
      return {
        ...state,
        published: { ...state.published, [d.table]: published },
        pending: state.pending.includes(d.table) ? state.pending : [...state.pending, d.table],
      };
    }
    case 'TableProfiled':
      return { ...state, profiled: { ...state.profiled, [e.data.table]: e.data.contentHash } };
    default:
      return assertNever(e);
  }
}

/** What the profiler projection works with. */
export interface ProfilerDeps {
  config: AdaConfig;
  append: (event: NewEvent) => Promise<unknown>;
  options?: ProfilerOptions;
  /** Told about tables that failed to profile (they are also events). */
  logger?: { warn(message: string): void };
  /** Called with each table's progress and outcome (the portal, tests). */
  onProgress?: (progress: ProfileProgress) => void;
  /** Aborted on shutdown: the table being profiled is abandoned (its process killed) and stays waiting. */
  signal?: AbortSignal;
}

/** The tables of `state` the sink has to profile: waiting, configured, and (outside a rebuild) not profiled yet at their latest publish. */
export function dueTables(state: ProfilerState, config: Pick<AdaConfig, 'tables' | 'declaredTables'>, rebuilding: boolean): TablePublish[] {
  return state.pending
    .map((name) => state.published[name])
    .filter((t): t is TablePublish => t !== undefined)
    .filter((t) => catalogTable(config, t.table) !== undefined)
    .filter((t) => rebuilding || state.profiled[t.table] !== t.contentHash);
}

/** Creates the profiler projection. */
export function profilerProjection(deps: ProfilerDeps): Projection<ProfilerState, ProfilerEvent['type']> {
  return defineReactor({
    name: PROFILER_PROJECTION,
    version: PROFILER_VERSION,
    handles: PROFILER_EVENTS,
    initialState: emptyProfilerState,
    evolve: evolveProfiler,
    async sink(state, ctx) {
      // The profiles a replay set aside serve that rebuild only.
      if (!ctx.rebuilding) await rm(previousProfilesFile(ctx.dataDir), { force: true });
      if (state.pending.length === 0) return state;
      const due = dueTables(state, deps.config, ctx.rebuilding);
      const waiting: string[] = [];
      if (due.length > 0) {
        const outcomes: ProfileOutcome[] = await profileTables({
          dataDir: ctx.dataDir, config: deps.config, tables: due, append: deps.append, options: deps.options,
          // A rebuild flushes every few thousand events: a publish whose files no longer match was most likely
          // replaced by a later one further on. It stays waiting; the first flush after the rebuild settles it.
          skipReplaced: ctx.rebuilding, onProgress: deps.onProgress, signal: deps.signal,
          // A rebuild keeps the profile of a table whose files and settings did not change; `ada profile` never does.
          ...(ctx.rebuilding ? { previous: (await readPreviousProfiles(ctx.dataDir)).tables } : {}),
        });
        for (const o of outcomes) {
          if (o.status === 'failed') deps.logger?.warn(`profiler: table ${o.table} could not be profiled: [${o.error?.code}] ${o.error?.message}`);
          if (o.status === 'skipped') waiting.push(o.table);
        }
        // Tables an abort left unprofiled stay waiting for the next run.
        const handled = new Set(outcomes.map((o) => o.table));
        waiting.push(...due.filter((t) => !handled.has(t.table)).map((t) => t.table));
      }
      return { ...state, pending: waiting };
    },
    reset: ({ dataDir }) => setProfilesAside(dataDir),
  });
}

/**
 * The profiler state up to the head of the log without running the sink or saving a checkpoint: from the
 * projection's checkpoint when it has the current version, else from the start. For on-demand profiling.
 */
export async function foldProfilerState(log: Pick<EventLog, 'read$'> | Pick<EventLogReader, 'read$'>, checkpoints: CheckpointStore): Promise<ProfilerState> {
  const cp = await checkpoints.load<ProfilerState>(PROFILER_PROJECTION);
  const usable = cp && cp.version === PROFILER_VERSION && cp.state !== undefined;
  let state = usable ? cp.state! : emptyProfilerState();
  const from = usable ? cp.position + 1 : 1;
  return new Promise<ProfilerState>((resolve, reject) => {
    log.read$(from).subscribe({
      next: (e) => {
        if (handlesEvent({ handles: PROFILER_EVENTS }, e)) state = evolveProfiler(state, e);
      },
      error: reject,
      complete: () => resolve(state),
    });
  });
}
