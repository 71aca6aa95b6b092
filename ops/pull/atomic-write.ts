/**
 * Writes a small file atomically (temp file, then rename). Not write-file-atomic: its signal-exit hook
 * re-raises SIGINT while a write is pending, which kills `ada watch` instead of letting it stop cleanly.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/** Writes `data` to `file` via a temp file in the same folder and a rename. */
export async function writeAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
