/**
 * What a profile is computed from, as one hash: the bytes of the published files, the profiler version and the
 * settings the profiling process is given. A rebuild keeps a table's previous profile when this hash is unchanged.
 */
import { createHash } from 'node:crypto';
import type { PublishedFile } from '../../../events/index.ts';
import type { ComputedProfile, ProfileJob, TableProfile } from './types.ts';

/** Bump to rebuild: profiles.json is set aside and every configured table profiled again (no profile is kept). */
export const PROFILER_VERSION = 1;

/** The hash of a profile's inputs: the files' sha256 in order, the profiler version, and the job's settings. */
export function profileInputsHash(files: readonly PublishedFile[], job: Omit<ProfileJob, 'files'>, version = PROFILER_VERSION): string {
  const inputs = {
    v: version,
    table: job.table,
    files: files.map((f) => [f.path, f.sha256, f.bytes]),
    schema: job.schema.map((c) => [c.name, c.type]),
    primaryKey: job.primaryKey,
    dateColumn: job.dateColumn ?? null,
    sampleThreshold: job.sampleThreshold,
    sampleSize: job.sampleSize,
    seed: job.seed,
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

/** Every field the profiling process computes; a TableProfile holds them next to what the publish and configuration add. */
const COMPUTED_FIELDS: Record<keyof ComputedProfile, true> = {
  row_count: true, column_count: true, sampled: true, sample_size: true, avg_completeness: true, missing_cells: true,
  duplicate_primary_keys: true, null_primary_keys: true, date_range: true, sample_rows: true, columns: true,
};

/**
 * What the profiling process computed for `previous`, when it may stand for a new computation with inputs `hash`: a
 * profile of the same inputs that is not stale and has the computed fields. Undefined otherwise (profile again).
 */
export function reusableComputation(previous: TableProfile | undefined, hash: string): ComputedProfile | undefined {
  if (!previous || typeof previous !== 'object' || previous.inputs_hash !== hash || previous.stale !== false) return undefined;
  if (typeof previous.row_count !== 'number' || !Array.isArray(previous.columns) || !Array.isArray(previous.sample_rows)) return undefined;
  const computed: Record<string, unknown> = {};
  for (const key of Object.keys(COMPUTED_FIELDS)) {
    if (!(key in previous)) return undefined;
    computed[key] = previous[key as keyof ComputedProfile];
  }
  return computed as unknown as ComputedProfile;
}
