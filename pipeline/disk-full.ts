/** Turns a write that failed for lack of space (Node's `ENOSPC`/`EDQUOT`/`EFBIG`, DuckDB's IO errors) into one clear error. */
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { adaError } from '../events/index.ts';

/** Error code of a write that failed because the filesystem (or a quota or file size limit) had no room. */
export const DISK_FULL = 'DISK_FULL';

const ERRNO_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file size limit',
};

/** DuckDB 1.x: `IO Error: Could not write file "<path>": No space left on device` (also quota and size-limit variants). */
const DUCKDB_WRITE = /Could not write file "((?:[^"\\]|\\.)*)": (No space left on device|Disk quota exceeded|File too large)/i;

/** Where the failed write went and what it means for the user. */
export interface WriteContext {
  /** The file being written, when the error itself does not say (Node's `write` errors carry no path). */
  path?: string;
  /** Bytes the write needed, or an upper bound of them. */
  bytesNeeded?: number;
  /** What happened to the data, e.g. `the published files of table orders are unchanged`. */
  outcome: string;
}

/** The DISK_FULL error for `err`, or undefined when `err` is not about space. The message names the file, the space needed and free, and the outcome. */
export async function diskFullError(err: unknown, context: WriteContext): Promise<Error | undefined> {
  const failure = spaceFailure(err);
  if (!failure) return undefined;
  const file = failure.path ?? context.path;
  const free = file === undefined ? undefined : await freeBytes(path.dirname(file));
  const space = [
    context.bytesNeeded !== undefined ? `about ${formatSize(context.bytesNeeded)} needed` : '',
    free !== undefined ? `${formatSize(free)} free on its filesystem` : '',
  ].filter(Boolean).join(', ');
  const message = `Not enough disk space to write ${file ?? 'a file'} (${failure.reason}${space ? `; ${space}` : ''}); ${context.outcome}. `
    + 'Free some space (or move the data directory) and run it again';
  return adaError(DISK_FULL, message, { path: file, bytesNeeded: context.bytesNeeded, bytesFree: free }, err);
}

function spaceFailure(err: unknown): { reason: string; path?: string } | undefined {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === 'string' && errno in ERRNO_REASONS) {
    // copyFile and rename name the target in `dest`; `path` is then the source.
    const { path: p, dest } = err as NodeJS.ErrnoException & { dest?: unknown };
    const target = typeof dest === 'string' ? dest : p;
    return { reason: ERRNO_REASONS[errno] as string, ...(typeof target === 'string' ? { path: target } : {}) };
  }
  const m = DUCKDB_WRITE.exec(err instanceof Error ? err.message : String(err));
  if (!m) return undefined;
  const reason = (m[2] as string).toLowerCase();
  return { reason: reason === 'file too large' ? ERRNO_REASONS.EFBIG as string : reason, path: (m[1] as string).replace(/\\(.)/g, '$1') };
}

async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
