/**
 * Content-addressed blob store for staged rows (claim checks): `blobs/sha256/ab/abcd…`.
 * Blobs are written once (temp file, fsync, rename) and never modified; reads verify the checksum.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { adaError, ErrorCode } from './errors.ts';
import { fsyncDir, fsyncFile } from './fs-sync.ts';

/** A stored blob: its hash and size. */
export interface StoredBlob {
  sha256: string;
  bytes: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Blobs `verifyAhead` hashes at a time: enough to keep the disk and one core busy with many small chunks. */
const VERIFY_AHEAD_CONCURRENCY = 4;

/** The blob store rooted at `<dataDir>/blobs`. */
export class BlobStore {
  readonly root: string;
  private readonly tmpDir: string;
  /** Blobs this process wrote or verified: their bytes were hashed already, so they are not hashed again. */
  private readonly verified = new Set<string>();
  /** Verifications in progress, by hash: a second caller waits for the first instead of hashing the blob again. */
  private readonly verifying = new Map<string, Promise<string>>();
  /** Verifications `verifyAhead` has yet to start, and how many of its verifications run. */
  private readonly ahead: string[] = [];
  private aheadRunning = 0;
  /** `verifyAhead` callers waiting for a blob's verification to settle, by hash. */
  private readonly aheadWaiters = new Map<string, Array<() => void>>();

  private constructor(root: string) {
    this.root = root;
    this.tmpDir = path.join(root, 'tmp');
  }

  /** Opens the store, creating its folders, and removes temp files a crash left behind. */
  static async create(root: string): Promise<BlobStore> {
    const store = new BlobStore(path.resolve(root));
    await mkdir(path.join(store.root, 'sha256'), { recursive: true, mode: 0o700 });
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true, mode: 0o700 });
    return store;
  }

  /**
   * The store another instance of this process created (one on another thread): it writes and reads as that one does,
   * but sweeps nothing, since a temp file in the store may be that instance's write in progress.
   */
  static attach(root: string): BlobStore {
    return new BlobStore(path.resolve(root));
  }

  /** Opens the store to read and verify only: touches nothing on disk (safe while another process writes to it). */
  static reader(root: string): BlobStore {
    return new BlobStore(path.resolve(root));
  }

  /** The path a blob lives at (whether or not it exists). */
  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw adaError(ErrorCode.badArgument, `not a sha256 hex digest: ${sha256}`);
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  /** True when the blob is stored. */
  async has(sha256: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  /** Stores bytes from a buffer or a stream. */
  async put(source: Buffer | Readable): Promise<StoredBlob> {
    const tmp = path.join(this.tmpDir, `${randomBytes(8).toString('hex')}.tmp`);
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      const input = Buffer.isBuffer(source) ? (async function* () { yield source; })() : source;
      await pipeline(input, tap, createWriteStream(tmp, { mode: 0o600 }));
      return await this.commit(tmp, { sha256: hash.digest('hex'), bytes });
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Stores a local file by moving it into the store (same filesystem) after hashing it; a file on another filesystem
   * is copied. The source path is gone afterwards. `digest`, when the caller hashed the file as it was written, is
   * trusted as the file's sha256 and size (checked against its size): the file is not read again.
   */
  async putFile(file: string, options: { replaceCorrupt?: boolean; digest?: StoredBlob } = {}): Promise<StoredBlob> {
    const known = options.digest;
    if (known !== undefined) {
      if (!SHA256_HEX.test(known.sha256)) throw adaError(ErrorCode.badArgument, `not a sha256 hex digest: ${known.sha256}`);
      const size = (await stat(file)).size;
      if (size !== known.bytes) throw adaError(ErrorCode.badArgument, `${file} holds ${size} bytes, its digest says ${known.bytes}`, { file });
    }
    // Unhashed, the fsync runs while the file is hashed (one waits on the disk, the other reads the page cache), at the
    // cost of a needless sync when the blob turns out to be stored already; with a digest, commit() syncs only if needed.
    const syncing = known ? undefined : fsyncFile(file);
    syncing?.catch(() => undefined);
    const [{ sha256, bytes }] = await Promise.all([known ?? hashFile(file), syncing]);
    const tmp = path.join(this.tmpDir, `${randomBytes(8).toString('hex')}.tmp`);
    try {
      let synced = syncing !== undefined;
      try {
        await rename(file, tmp);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
        await pipeline(createReadStream(file), createWriteStream(tmp, { mode: 0o600 }));
        await rm(file, { force: true });
        synced = false;
      }
      return await this.commit(tmp, { sha256, bytes }, options.replaceCorrupt === true, synced);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Moves a hashed temp file to its place. An existing blob of the same hash is kept as it is, unless
   * `replaceCorrupt` asks to check it first (a full refresh that recovers a broken history must not reuse a corrupt blob).
   * `synced`: the temp file's bytes are durable already.
   */
  private async commit(tmp: string, blob: StoredBlob, replaceCorrupt = false, synced = false): Promise<StoredBlob> {
    const final = this.pathOf(blob.sha256);
    const known = this.verified.has(blob.sha256);
    this.verified.add(blob.sha256);
    if (await this.has(blob.sha256) && (!replaceCorrupt || known || (await hashFile(final).catch(() => undefined))?.sha256 === blob.sha256)) return blob;
    if (!synced) await fsyncFile(tmp);
    await mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
    await rename(tmp, final);
    await fsyncDir(path.dirname(final));
    return blob;
  }

  /** Reads a whole blob, verifying its checksum. */
  async read(sha256: string): Promise<Buffer> {
    let buf: Buffer;
    try {
      buf = await readFile(this.pathOf(sha256));
    } catch (err) {
      throw this.missing(sha256, err);
    }
    const actual = createHash('sha256').update(buf).digest('hex');
    if (actual !== sha256) throw this.corrupt(sha256, actual);
    return buf;
  }

  /** Verifies a blob's checksum by streaming it, then returns its path for tools that read files (DuckDB). */
  async verifiedPath(sha256: string): Promise<string> {
    const file = this.pathOf(sha256);
    if (this.verified.has(sha256) && await this.has(sha256)) return file;
    let verifying = this.verifying.get(sha256);
    if (!verifying) {
      verifying = this.verify(sha256, file).finally(() => {
        this.verifying.delete(sha256);
        this.settled(sha256);
      });
      this.verifying.set(sha256, verifying);
    }
    return verifying;
  }

  /**
   * Starts verifying blobs that are about to be read (a rebuild's history), a few at a time, so that their hashing
   * overlaps the work before their turn instead of following it; `verifiedPath` then waits for a verification in
   * progress or finds the blob verified. A failure shows only in the `verifiedPath` that asks for that blob; the
   * returned promise (which callers need not wait for) settles when these blobs are verified or found bad, never rejecting.
   */
  verifyAhead(sha256s: readonly string[]): Promise<void> {
    const wanted = [...new Set(sha256s)].filter((sha) => !this.verified.has(sha));
    const done = Promise.all(wanted.map((sha) => new Promise<void>((resolve) => {
      const waiters = this.aheadWaiters.get(sha);
      if (waiters) waiters.push(resolve);
      else this.aheadWaiters.set(sha, [resolve]);
    }))).then(() => undefined);
    this.ahead.push(...wanted);
    this.startAhead();
    return done;
  }

  private startAhead(): void {
    while (this.aheadRunning < VERIFY_AHEAD_CONCURRENCY && this.ahead.length > 0) {
      const sha = this.ahead.shift()!;
      // Verified since it was queued: nothing to start, and its verification (if this process ran one) has settled.
      if (this.verified.has(sha)) this.settled(sha);
      if (this.verified.has(sha) || this.verifying.has(sha)) continue;
      this.aheadRunning++;
      this.verifiedPath(sha).catch(() => undefined).finally(() => {
        this.aheadRunning--;
        this.startAhead();
      });
    }
  }

  /** Tells the `verifyAhead` callers waiting for a blob that its verification settled (verified or found bad). */
  private settled(sha256: string): void {
    const waiters = this.aheadWaiters.get(sha256);
    this.aheadWaiters.delete(sha256);
    for (const resolve of waiters ?? []) resolve();
  }

  private async verify(sha256: string, file: string): Promise<string> {
    let actual: string;
    try {
      actual = (await hashFile(file)).sha256;
    } catch (err) {
      throw this.missing(sha256, err);
    }
    if (actual !== sha256) throw this.corrupt(sha256, actual);
    this.verified.add(sha256);
    return file;
  }

  /** Every stored blob hash (for garbage collection and checks). */
  async list(): Promise<string[]> {
    const out: string[] = [];
    const base = path.join(this.root, 'sha256');
    for (const prefix of await readdir(base)) {
      for (const name of await readdir(path.join(base, prefix))) if (SHA256_HEX.test(name)) out.push(name);
    }
    return out.sort();
  }

  /** Hard-links a blob to `target` (same filesystem), or copies it when linking is not possible. */
  async linkTo(sha256: string, target: string): Promise<void> {
    try {
      await link(this.pathOf(sha256), target);
    } catch (err) {
      if (!['EXDEV', 'EPERM', 'ENOTSUP'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      await pipeline(createReadStream(this.pathOf(sha256)), createWriteStream(target));
    }
  }

  private missing(sha256: string, err: unknown): Error {
    return adaError(ErrorCode.blobMissing, `blob ${sha256} is missing from ${this.root}`, { sha256 }, err);
  }

  private corrupt(sha256: string, actual: string): Error {
    return adaError(ErrorCode.blobCorrupt, `blob ${sha256} in ${this.root} is corrupt: its content hashes to ${actual}`, { sha256, actual });
  }
}

/** sha256 and size of a file, streamed. */
export async function hashFile(file: string): Promise<StoredBlob> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
