/**
 * sha256 of downloaded files, computed in a worker thread. On the pull's own thread the hash of every byte was the
 * largest cost a pull adds to a plain download (about a second per GB, as much as receiving and writing them): in a
 * thread of its own it runs beside the downloads on another core. The worker reads the file back (from the page
 * cache, just written), so what is verified is what is on disk.
 */
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { sha256File } from './local-state.ts';

/**
 * The worker's code, evaluated (no file of its own, so it runs alike from the sources and from dist/): node's own
 * modules only, and only dynamic imports, since it runs as a script or as a module as the process's flags say.
 * Reads of 1 MiB: a sixteenth of the calls of a stream's 64 KiB chunks.
 */
const WORKER_CODE = `(async () => {
  const { parentPort } = await import('node:worker_threads');
  const { createHash } = await import('node:crypto');
  const { openSync, readSync, fstatSync, closeSync } = await import('node:fs');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  parentPort.on('message', ({ id, file }) => {
    let fd;
    try {
      fd = openSync(file, 'r');
      const hash = createHash('sha256');
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
      const { size, mtimeMs } = fstatSync(fd);
      parentPort.postMessage({ id, sha256: hash.digest('hex'), size, mtimeMs });
    } catch (err) {
      parentPort.postMessage({ id, error: String(err && err.message || err), code: err && err.code });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  });
})().catch((err) => { process.nextTick(() => { throw err; }); });`;

/** A file's sha256, with the size and modification time it had when hashed (so the caller need not stat it again). */
export interface HashedFile {
  sha256: string;
  size: number;
  mtimeMs: number;
}

type Reply = ({ id: number } & HashedFile) | { id: number; error: string; code?: string };

/** Hashes `file` on this thread. */
async function hashHere(file: string): Promise<HashedFile> {
  const sha256 = await sha256File(file);
  const { size, mtimeMs } = await stat(file);
  return { sha256, size, mtimeMs };
}

/** Hashes files in one worker thread, started on first use; falls back to this thread if the worker cannot run. */
export class FileHasher {
  private worker?: Worker;
  private inline = false;
  private closed = false;
  private nextId = 1;
  private readonly waiting = new Map<number, { file: string; resolve(hashed: HashedFile): void; reject(err: Error): void }>();

  /** The hex sha256 of `file`'s bytes, with its size and modification time. */
  hash(file: string): Promise<HashedFile> {
    if (this.closed) return Promise.reject(new Error('FileHasher is closed'));
    const worker = this.inline ? undefined : this.start();
    if (!worker) return hashHere(file);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { file, resolve, reject });
      worker.postMessage({ id, file });
    });
  }

  /** Stops the worker; hashes still pending are rejected. */
  close(): void {
    this.closed = true;
    void this.worker?.terminate();
    this.worker = undefined;
    for (const w of this.waiting.values()) w.reject(new Error('FileHasher closed while hashing'));
    this.waiting.clear();
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      const worker = new Worker(WORKER_CODE, { eval: true });
      worker.on('message', (reply: Reply) => {
        const w = this.waiting.get(reply.id);
        if (!w) return;
        this.waiting.delete(reply.id);
        if ('sha256' in reply) w.resolve({ sha256: reply.sha256, size: reply.size, mtimeMs: reply.mtimeMs });
        else w.reject(Object.assign(new Error(reply.error), reply.code ? { code: reply.code } : {}));
      });
      // A worker that dies (out of memory, a broken runtime) hands what it held back to this thread.
      const fail = (): void => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.inline = true;
        for (const [id, w] of this.waiting) {
          this.waiting.delete(id);
          hashHere(w.file).then(w.resolve, w.reject);
        }
      };
      worker.on('error', fail);
      worker.on('exit', fail);
      this.worker = worker;
      return worker;
    } catch {
      this.inline = true;
      return undefined;
    }
  }
}
