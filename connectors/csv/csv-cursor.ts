/** The CSV cursor (size, mtime, ctime, inode and content hash per file) and the decision which files a run must stage. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { TableFile } from './table-files.ts';

/**
 * What the last successful run saw of one file. `sha256` is absent when no run needed to hash it. `ctimeMs` and `ino`
 * catch a rewrite that kept size and mtime (`touch -r`, `utimes`): the change time cannot be set back. They are absent
 * in cursors written before they were recorded, which then count as changed once (hashed, staged only if different).
 */
export interface CsvFileState {
  size: number;
  mtimeMs: number;
  ctimeMs?: number;
  ino?: number;
  sha256?: string;
}

/** The cursor a CSV table run stores: every file it saw, keyed by path relative to the CSV directory. */
export interface CsvCursor {
  files: Record<string, CsvFileState>;
}

/** One file of the run with its current state and whether it is staged. */
export interface PlannedFile extends TableFile {
  state: CsvFileState;
  stage: boolean;
  /** Set for staged files whose hash the cursor needs; resolves to the content hash. */
  hash?: () => Promise<string>;
}

/** Reads a stored cursor defensively; anything malformed counts as no cursor (a first run). */
export function parseCsvCursor(cursor: unknown): CsvCursor | undefined {
  if (typeof cursor !== 'object' || cursor === null) return undefined;
  const files = (cursor as { files?: unknown }).files;
  if (typeof files !== 'object' || files === null) return undefined;
  const out: CsvCursor = { files: {} };
  for (const [name, raw] of Object.entries(files as Record<string, unknown>)) {
    const s = raw as Partial<CsvFileState> | null;
    if (typeof s?.size !== 'number' || typeof s.mtimeMs !== 'number') continue;
    const state: CsvFileState = { size: s.size, mtimeMs: s.mtimeMs };
    if (typeof s.ctimeMs === 'number') state.ctimeMs = s.ctimeMs;
    if (typeof s.ino === 'number') state.ino = s.ino;
    if (typeof s.sha256 === 'string') state.sha256 = s.sha256;
    out.files[name] = state;
  }
  return out;
}

/**
 * Decides what to stage. `all`: every file (full refresh), hashing nothing new.
 * `changed`: only files new or changed since `previous`; a file whose size, mtime, ctime or inode moved is hashed and staged only if its content differs.
 */
export async function planFiles(files: TableFile[], previous: CsvCursor | undefined, mode: 'all' | 'changed', signal: AbortSignal): Promise<PlannedFile[]> {
  const planned: PlannedFile[] = [];
  for (const file of files) {
    signal.throwIfAborted();
    const info = await stat(file.absolutePath);
    const state: CsvFileState = { size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino };
    const before = previous?.files[file.relativePath];
    const statUnchanged = before !== undefined && before.size === state.size && before.mtimeMs === state.mtimeMs
      && before.ctimeMs === state.ctimeMs && before.ino === state.ino;
    if (statUnchanged && before.sha256 !== undefined) state.sha256 = before.sha256;
    if (mode === 'all') {
      planned.push({ ...file, state, stage: true });
      continue;
    }
    if (statUnchanged) {
      planned.push({ ...file, state, stage: false });
      continue;
    }
    if (before?.sha256 !== undefined) {
      const digest = await sha256File(file.absolutePath, signal);
      state.sha256 = digest;
      planned.push({ ...file, state, stage: digest !== before.sha256 });
      continue;
    }
    // New (or never hashed): staged anyway, so the hash can run alongside DuckDB's read.
    planned.push({ ...file, state, stage: true, hash: () => sha256File(file.absolutePath, signal) });
  }
  return planned;
}

/** The cursor listing every current file. */
export function cursorOf(files: PlannedFile[]): CsvCursor {
  const cursor: CsvCursor = { files: {} };
  for (const f of files) cursor.files[f.relativePath] = { ...f.state };
  return cursor;
}

/** Hex SHA-256 of a file's bytes, streamed. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, signal }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
  }
  return hash.digest('hex');
}
