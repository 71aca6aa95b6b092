/**
 * Profiles published tables one after another in one profiling process: checks the files are those the publish
 * recorded, computes the profile, writes it into profiles.json and appends `TableProfiled`; on failure keeps the
 * previous profile marked stale and appends `TableProfileFailed`. Used by the profiler projection and `ada profile`.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { catalogTable } from '../../../config/index.ts';
import type { AdaConfig } from '../../../config/index.ts';
import { adaError, isProcessAlive } from '../../../events/index.ts';
import type { NewEvent, PublishedFile, RecordedError } from '../../../events/index.ts';
import { buildProfile, markStale } from './build-profile.ts';
import { ProfileErrorCode } from './engine.ts';
import { updateProfiles } from './profiles-file.ts';
import { ProfileWorker } from './profile-worker.ts';
import { profileInputsHash, reusableComputation } from './profile-inputs.ts';
import type { ComputedProfile, EngineReport, ProfileJob, ProfileOutcome, ProfileProgress, ProfilerOptions, TableProfile, TablePublish } from './types.ts';
import { PipelineErrorCode } from '../../errors.ts';

/** Defaults of ProfilerOptions. */
export const PROFILER_DEFAULTS = {
  /** UPSTREAM.md: large tables are sampled; the original ran out of memory on them. */
  sampleThreshold: 500_000,
  /** Measured: a 5M-row, 5-column table peaks at ~0.4 GB RSS under this limit; bigger work spills to disk. */
  memoryLimit: '512MB',
  /** Leaves the broker's event loop and a sync some cores; DuckDB's default would take them all. */
  maxThreads: 4,
  timeoutMs: 15 * 60_000,
  seed: 42,
} as const;

/** DuckDB's spill directory of the profiling processes, relative to the data directory. */
export const PROFILER_TEMP_DIR = 'tmp/duckdb/profiler';

const SIZE = /^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$/i;

/** Options with defaults applied; throws BAD_ARGUMENT on values DuckDB would refuse. */
export function resolveOptions(o: ProfilerOptions = {}): Required<ProfilerOptions> {
  const sampleThreshold = o.sampleThreshold ?? PROFILER_DEFAULTS.sampleThreshold;
  const resolved: Required<ProfilerOptions> = {
    sampleThreshold,
    sampleSize: o.sampleSize ?? sampleThreshold,
    memoryLimit: o.memoryLimit ?? PROFILER_DEFAULTS.memoryLimit,
    threads: o.threads ?? Math.max(1, Math.min(PROFILER_DEFAULTS.maxThreads, os.availableParallelism())),
    timeoutMs: o.timeoutMs ?? PROFILER_DEFAULTS.timeoutMs,
    seed: o.seed ?? PROFILER_DEFAULTS.seed,
  };
  const bad = (what: string, value: unknown): never => {
    throw adaError(PipelineErrorCode.badArgument, `profiler option ${what} is invalid: ${JSON.stringify(value)}`);
  };
  if (!(resolved.sampleThreshold >= 0)) bad('sampleThreshold (rows, ≥ 0)', o.sampleThreshold);
  if (!(resolved.sampleSize >= 1)) bad('sampleSize (rows, ≥ 1)', o.sampleSize);
  if (!SIZE.test(resolved.memoryLimit)) bad('memoryLimit (a size such as 512MB)', o.memoryLimit);
  if (!Number.isInteger(resolved.threads) || resolved.threads < 1) bad('threads (an integer ≥ 1)', o.threads);
  if (!(resolved.timeoutMs > 0)) bad('timeoutMs (> 0)', o.timeoutMs);
  if (!Number.isInteger(resolved.seed)) bad('seed (an integer)', o.seed);
  return resolved;
}

/** What profileTables works with. */
export interface ProfileTablesInput {
  dataDir: string;
  /** The configured tables: primary keys, partition columns, foreign keys, descriptions. */
  config: Pick<AdaConfig, 'tables'>;
  /** Latest publishes of the tables to profile, in order; callers leave out tables that are not configured. */
  tables: TablePublish[];
  append: (event: NewEvent) => Promise<unknown>;
  options?: ProfilerOptions;
  onProgress?: (progress: ProfileProgress) => void;
  /** Stops after the current table (whose profiling process is killed); nothing is recorded for it. */
  signal?: AbortSignal;
  /** For replays: a table whose files no longer match its publish (a later publish replaced them) is skipped, not failed. */
  skipReplaced?: boolean;
  /** For replays: the profiles set aside before the rebuild; a table whose inputs hash is unchanged keeps its profile. */
  previous?: Readonly<Record<string, TableProfile>>;
}

/** Why a table's files cannot be profiled as published, if they cannot. */
async function checkFiles(dataDir: string, table: string, files: readonly PublishedFile[]): Promise<RecordedError | undefined> {
  for (const f of files) {
    let size: number;
    try {
      size = (await stat(path.resolve(dataDir, f.path))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return { code: ProfileErrorCode.fileMissing, message: `file ${f.path} of table ${table} is missing`, file: f.path };
    }
    if (size !== f.bytes) {
      return { code: ProfileErrorCode.fileChanged, message: `file ${f.path} of table ${table} has ${size} bytes, its publish recorded ${f.bytes} (replaced or modified since)`, file: f.path };
    }
  }
  return undefined;
}

function recordedError(err: unknown): RecordedError {
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : ProfileErrorCode.failed, message: err instanceof Error ? err.message : String(err) };
}

/** Removes spill directories of profiling processes that no longer run (left by a broker that was killed). */
async function sweepSpill(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => /^\d+$/.test(n) && !isProcessAlive(Number(n))).map((n) => rm(path.join(dir, n), { recursive: true, force: true })));
}

/**
 * The previous profile of a table rebuilt for a publish whose inputs hash is `hash` (its computed part kept, the rest
 * taken afresh from the publish and configuration by `rebuild`); undefined when it must be profiled again: no previous
 * profile, other inputs, a stale one, or one too damaged to rebuild (the set-aside file is only a cache).
 */
function keptProfile(previous: TableProfile | undefined, hash: string, rebuild: (computed: ComputedProfile, previous: TableProfile) => TableProfile): TableProfile | undefined {
  const computed = reusableComputation(previous, hash);
  if (!computed || !previous) return undefined;
  try {
    return rebuild(computed, previous);
  } catch {
    return undefined;
  }
}

/** Profiles `tables` one at a time; returns one outcome per table handled (fewer when aborted). */
export async function profileTables(input: ProfileTablesInput): Promise<ProfileOutcome[]> {
  const opts = resolveOptions(input.options);
  const { dataDir, config, append } = input;
  const tempDirectory = path.join(dataDir, PROFILER_TEMP_DIR);
  await sweepSpill(tempDirectory);
  const worker = new ProfileWorker({ memoryLimit: opts.memoryLimit, threads: opts.threads, tempDirectory });
  const outcomes: ProfileOutcome[] = [];
  const total = input.tables.length;

  const fail = async (t: TablePublish, error: RecordedError, started: number): Promise<ProfileOutcome> => {
    const now = new Date().toISOString();
    // A previous profile of the same content is still right; only one of an older publish goes stale.
    const kept = await updateProfiles(dataDir, t.table, (prev) => (prev && prev.content_hash !== t.contentHash ? markStale(prev, `${error.code}: ${error.message}`, now) : undefined));
    await append({ type: 'TableProfileFailed', v: 1, key: `profile-failed:${t.table}:${t.contentHash}`, source: 'profiler', data: { table: t.table, contentHash: t.contentHash, error } });
    return { table: t.table, contentHash: t.contentHash, status: 'failed', durationMs: performance.now() - started, error, stale: kept !== undefined };
  };

  try {
    for (const [i, t] of input.tables.entries()) {
      if (input.signal?.aborted) break;
      const progress = (phase: ProfileProgress['phase'], outcome?: ProfileOutcome): void => input.onProgress?.({ table: t.table, index: i + 1, total, phase, ...(outcome ? { outcome } : {}) });
      progress('start');
      const started = performance.now();
      const tableConfig = catalogTable(config, t.table);
      let outcome: ProfileOutcome;
      const problem = await checkFiles(dataDir, t.table, t.files);
      if (problem && input.skipReplaced) {
        outcome = { table: t.table, contentHash: t.contentHash, status: 'skipped', durationMs: performance.now() - started, error: problem };
      } else if (problem) {
        outcome = await fail(t, problem, started);
      } else {
        const job: ProfileJob = {
          table: t.table,
          files: t.files.map((f) => path.resolve(dataDir, f.path)),
          schema: t.schema,
          primaryKey: tableConfig?.primaryKey ?? [],
          ...(tableConfig?.partitionBy ? { dateColumn: tableConfig.partitionBy } : {}),
          sampleThreshold: opts.sampleThreshold,
          sampleSize: opts.sampleSize,
          seed: opts.seed,
        };
        const inputsHash = profileInputsHash(t.files, job);
        const reused = keptProfile(input.previous?.[t.table], inputsHash, (computed, previous) => buildProfile({ published: t, computed, tableConfig, config, profiledAt: previous.profiled_at, durationMs: previous.duration_ms }));
        let result: { profile: TableProfile; engine?: EngineReport } | undefined;
        let error: RecordedError | undefined;
        if (reused) {
          result = { profile: reused };
        } else {
          try {
            const computed = await worker.run(job, { timeoutMs: opts.timeoutMs, signal: input.signal });
            const profile = buildProfile({ published: t, computed: computed.profile, tableConfig, config, profiledAt: new Date().toISOString(), durationMs: performance.now() - started });
            result = { profile, engine: computed.engine };
          } catch (err) {
            error = recordedError(err);
          }
        }
        if (error?.code === ProfileErrorCode.aborted) break;
        if (!result) {
          outcome = await fail(t, error ?? { code: ProfileErrorCode.failed, message: 'no result' }, started);
        } else {
          const profile: TableProfile = { ...result.profile, inputs_hash: inputsHash };
          await updateProfiles(dataDir, t.table, () => profile);
          await append({
            type: 'TableProfiled', v: 1, key: `profiled:${t.table}:${t.contentHash}`, source: 'profiler',
            data: { table: t.table, contentHash: t.contentHash, rows: profile.row_count, columns: profile.column_count, sampled: profile.sampled, alerts: profile.alerts.length, durationMs: profile.duration_ms },
          });
          outcome = {
            table: t.table, contentHash: t.contentHash, status: 'profiled', durationMs: performance.now() - started, rows: profile.row_count, columns: profile.column_count,
            alerts: profile.alerts.length, sampled: profile.sampled, sampleSize: profile.sample_size,
            ...(result.engine ? { engine: result.engine } : {}), ...(reused ? { reused: true as const } : {}),
          };
        }
      }
      outcomes.push(outcome);
      progress(outcome.status === 'profiled' ? 'done' : outcome.status, outcome);
    }
  } finally {
    await worker.close();
  }
  return outcomes;
}
