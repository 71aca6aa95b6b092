/**
 * Hashes a file while another writer (DuckDB's COPY) is still appending to it, so the bytes are hashed from the page
 * cache as they land instead of being read back once the write is done.
 *
 * It relies on the writer only appending: the file must not exist when the write starts (a stale file would be read
 * before the writer truncates it), and the writer must never rewrite bytes it wrote or replace the file. DuckDB's
 * Parquet and CSV writers append through one buffered stream and write the footer last. Two checks catch a writer that
 * does otherwise in a way that shows: the file's size at the end must equal the bytes hashed, and the path must still
 * name the file that was read; when either fails the file is hashed again from the start.
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashFile } from '../events/index.ts';
import type { StoredBlob } from '../events/index.ts';

/** Bytes read per call: DuckDB flushes about this much at a time, and it keeps the hash's calls few. */
const READ_BYTES = 1024 * 1024;
/** How long to wait for the writer once the hash has caught up with it (ms). */
const POLL_MS = 10;
/**
 * Bytes hashed between two writebacks. Each `fdatasync` of the bytes read so far runs while the writer goes on, so the
 * caller's fsync at the end (which durability still rests on) finds little left to write: the disk's time overlaps
 * DuckDB's instead of following it.
 */
const SYNC_BYTES = 32 * 1024 * 1024;

/**
 * The sha256 and size of `file` as `writing` leaves it. `writing` is the write in progress (a COPY's promise); when it
 * rejects, hashing stops and the result rejects with the same error.
 */
export async function hashWhileWritten(file: string, writing: Promise<unknown>): Promise<StoredBlob> {
  // Set by the write's settling, read by the loop (an object, so the compiler does not narrow the fields away).
  const write: { done: boolean; failed?: { error: unknown } } = { done: false };
  const settled = writing.then(() => { write.done = true; }, (error: unknown) => { write.done = true; write.failed = { error }; });
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  let bytes = 0;
  let handle: FileHandle | undefined;
  // One writeback at a time; its failure fails the hash, since a later fsync on another descriptor may not report it.
  const writeback: { running?: Promise<void>; syncedTo: number; failed?: { error: unknown } } = { syncedTo: 0 };
  try {
    while (true) {
      if (write.failed) throw write.failed.error;
      if (writeback.failed) throw writeback.failed.error;
      // Look at `done` before reading (in the same tick as the check above): bytes that land between a short read and
      // the write's end are then read by the next turn.
      const finished = write.done;
      handle ??= await openIfExists(file);
      let read = 0;
      if (handle) {
        ({ bytesRead: read } = await handle.read(buffer, 0, READ_BYTES, bytes));
        hash.update(buffer.subarray(0, read));
        bytes += read;
        if (!writeback.running && bytes - writeback.syncedTo >= SYNC_BYTES) {
          writeback.syncedTo = bytes;
          writeback.running = handle.datasync().then(() => { writeback.running = undefined; }, (error: unknown) => { writeback.failed = { error }; });
        }
      }
      if (read > 0) continue;
      if (finished) break;
      await Promise.race([settled, sleep(POLL_MS)]);
    }
    await writeback.running;
    // Set while awaiting, which the compiler cannot see.
    const failed = writeback.failed as { error: unknown } | undefined;
    if (failed) throw failed.error;
    if (!handle || !await sameFile(handle, file, bytes)) return await hashFile(file);
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    await writeback.running;
    await handle?.close();
  }
}

async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when `file` still names the open file and its size is what was hashed. */
async function sameFile(handle: FileHandle, file: string, bytes: number): Promise<boolean> {
  const [opened, named] = await Promise.all([handle.stat(), stat(file).catch(() => undefined)]);
  return named !== undefined && named.ino === opened.ino && named.dev === opened.dev && opened.size === bytes;
}
