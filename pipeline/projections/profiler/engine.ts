/**
 * The profiling engine: runs one job with a fresh DuckDB instance under the job's memory limit and threads, and
 * the messages between ProfileWorker and the profiling process (profile-child.ts).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createDuckDBInstance } from '../../duckdb-instance.ts';
import type { RecordedError } from '../../../events/index.ts';
import { quoteLiteral } from '../../sql/where-filters.ts';
import { computeProfile } from './compute-profile.ts';
import type { ComputedProfile, EngineReport, EngineSettings, ProfileJob } from './types.ts';

/** A job sent to the profiling process. */
export interface ChildRequest {
  id: number;
  job: ProfileJob;
  settings: EngineSettings;
}

/** The profiling process's answer to one request. */
export type ChildResponse =
  | { id: number; ok: true; profile: ComputedProfile; engine: EngineReport }
  | { id: number; ok: false; error: RecordedError };

/** Codes of profiling failures. */
export const ProfileErrorCode = {
  failed: 'PROFILE_FAILED',
  outOfMemory: 'PROFILE_OUT_OF_MEMORY',
  timeout: 'PROFILE_TIMEOUT',
  crashed: 'PROFILE_CRASHED',
  aborted: 'PROFILE_ABORTED',
  fileMissing: 'PROFILE_FILE_MISSING',
  fileChanged: 'PROFILE_FILE_CHANGED',
} as const;

/** Maps an error thrown while profiling to a recorded error with a stable code. */
export function profileError(err: unknown): RecordedError {
  const message = err instanceof Error ? err.message : String(err);
  return { code: /out of memory/i.test(message) ? ProfileErrorCode.outOfMemory : ProfileErrorCode.failed, message: message.split('\n')[0]!.slice(0, 1000) };
}

function peakRssMb(): number {
  // resourceUsage().maxRSS is in kilobytes.
  return process.resourceUsage().maxRSS / 1024;
}

/** Profiles one job with its own DuckDB instance (so memory is returned between tables). */
export async function runJob(job: ProfileJob, settings: EngineSettings): Promise<{ profile: ComputedProfile; engine: EngineReport }> {
  // DuckDB creates its spill directory when it first spills, but not the parents.
  const spill = path.join(settings.tempDirectory, String(process.pid));
  await mkdir(spill, { recursive: true });
  const instance = await createDuckDBInstance(':memory:', { memory_limit: settings.memoryLimit, threads: String(settings.threads), temp_directory: spill });
  try {
    const conn = await instance.connect();
    try {
      // ICU is loaded after the config is applied; TIMESTAMPTZ casts must not depend on the host.
      await conn.run(`SET TimeZone = ${quoteLiteral('UTC')}`);
      const read = (await conn.runAndReadAll(`SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t`)).getRowObjectsJS()[0] ?? {};
      const profile = await computeProfile(conn, job);
      return { profile, engine: { memoryLimit: String(read.m), threads: Number(read.t), peakRssMb: peakRssMb() } };
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
