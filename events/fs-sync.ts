/** Durability helpers shared by the stores: fsync of files and directories, and liveness of lock owners. */
import { open, readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';

/** fsyncs a file's data and metadata (a rename of unsynced data can publish zeros after a power loss). */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory so a rename or new entry in it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  await fsyncFile(dir);
}

/**
 * Writes `text` to `file` atomically and durably (write-file-atomic with fsync), unless the file holds exactly that
 * text already: then nothing is written, and false is returned. Reading a small file back costs a fraction of the
 * fsync a rewrite waits for (1–5 ms on the disks we measured), which a projection's first flush in a process,
 * rewriting what the last process left, paid at every command's start.
 */
export async function writeFileIfChanged(file: string, text: string, options: { mode?: number } = {}): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) return false;
  await writeFileAtomic(file, text, { fsync: true, ...options });
  return true;
}

/** True when a process with this pid runs on this host (EPERM: it runs as another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
