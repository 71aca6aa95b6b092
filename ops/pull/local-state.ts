/** What the last pull verified: size, mtime and sha256 of each file of `server/`, so a no-op pull hashes nothing. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { writeAtomic } from './atomic-write.ts';

/** A verified file. */
export interface VerifiedFile {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** `.ada/state.json`. */
export interface LocalState {
  files: Record<string, VerifiedFile>;
}

/** Reads the state; an empty one when missing or unreadable (everything is then hashed once). */
export async function readLocalState(file: string): Promise<LocalState> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as LocalState;
    return s && typeof s.files === 'object' ? s : { files: {} };
  } catch {
    return { files: {} };
  }
}

/** Writes the state atomically. */
export async function writeLocalState(file: string, state: LocalState): Promise<void> {
  await writeAtomic(file, JSON.stringify(state), 0o600);
}

/** sha256 of a file, hex. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Whether `file` holds `sha256`: trusted without reading when size and mtime match what was verified
 * before, hashed otherwise. Returns the verified record, or undefined when absent or different.
 */
export async function verifyLocal(file: string, sha256: string, size: number, known: VerifiedFile | undefined): Promise<VerifiedFile | undefined> {
  let info;
  try {
    info = await stat(file);
  } catch {
    return undefined;
  }
  if (!info.isFile() || info.size !== size) return undefined;
  if (known && known.sha256 === sha256 && known.size === info.size && known.mtimeMs === info.mtimeMs) return known;
  return (await sha256File(file)) === sha256 ? { size, mtimeMs: info.mtimeMs, sha256 } : undefined;
}
