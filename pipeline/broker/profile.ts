/** On-demand profiling (`ada profile`): the published tables named (all when none), one at a time. */
import { catalogTables } from '../../config/index.ts';
import type { AdaConfig } from '../../config/index.ts';
import { CheckpointStore } from '../../events/index.ts';
import type { EventLogReader, NewEvent } from '../../events/index.ts';
import { foldProfilerState } from '../projections/profiler/projection.ts';
import { profileTables } from '../projections/profiler/profile-tables.ts';
import type { ProfileOutcome, ProfileProgress, ProfilerOptions, TablePublish } from '../projections/profiler/types.ts';
import { checkpointsDirOf } from './paths.ts';

/** Code of a named table that has no publish to profile yet. */
export const PROFILE_NOT_PUBLISHED = 'PROFILE_NOT_PUBLISHED';

/** What `profile` is asked. */
export interface ProfileRequest {
  /** Configured table names; all configured tables with a publish when empty. */
  tables?: readonly string[];
  options?: ProfilerOptions;
  onProgress?: (p: ProfileProgress) => void;
  signal?: AbortSignal;
}

/** What `profile` did: one outcome per table (named tables never published fail with `PROFILE_NOT_PUBLISHED`). */
export interface ProfileResult {
  outcomes: ProfileOutcome[];
  /** How many tables were asked for (published targets plus unpublished names). */
  wanted: number;
}

/** The latest publishes of the tables to profile, and the named ones never published. */
export function selectProfileTargets(configured: readonly AdaConfig['tables'][number][], published: Readonly<Record<string, TablePublish>>, names: readonly string[]): { targets: TablePublish[]; unpublished: string[] } {
  const wanted = names.length > 0 ? configured.filter((t) => names.includes(t.name)) : configured;
  return {
    targets: wanted.map((t) => published[t.name]).filter((p): p is TablePublish => p !== undefined),
    unpublished: names.length > 0 ? wanted.filter((t) => !published[t.name]).map((t) => t.name) : [],
  };
}

/**
 * Profiles in this process from the log as it is on disk (the profiler's checkpoint is read, never
 * written) and records the outcomes through `append` — the log itself, or a running server's.
 */
export async function profileOnDemand(deps: { config: AdaConfig; dataDir: string; reader: Pick<EventLogReader, 'read$'>; append: (event: NewEvent) => Promise<unknown> }, request: ProfileRequest): Promise<ProfileResult> {
  const state = await foldProfilerState(deps.reader, new CheckpointStore(checkpointsDirOf(deps.dataDir), { readOnly: true }));
  const { targets, unpublished } = selectProfileTargets(catalogTables(deps.config), state.published, request.tables ?? []);
  const outcomes = await profileTables({
    dataDir: deps.dataDir, config: deps.config, tables: targets, append: deps.append,
    ...(request.options ? { options: request.options } : {}),
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
  for (const name of unpublished) {
    outcomes.push({ table: name, contentHash: '', status: 'failed', durationMs: 0, error: { code: PROFILE_NOT_PUBLISHED, message: `table ${name} has not been published yet; run \`ada sync --table ${name}\` first` } });
  }
  return { outcomes, wanted: targets.length + unpublished.length };
}
