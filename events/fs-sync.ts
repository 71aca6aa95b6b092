/** Durability helpers shared by the stores: fsync of files and directories, and liveness of lock owners. */
import { open } from 'node:fs/promises';

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

/** True when a process with this pid runs on this host (EPERM: it runs as another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
