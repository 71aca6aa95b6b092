import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { hashWhileWritten } from '../../../pipeline/index.ts';
import { tempDir } from '../../helpers/tmp.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A promise and the functions that settle it, so a test decides when a "write" ends. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets the hasher run until it has waited for the writer at least once (its poll is 10 ms). */
const yieldToHasher = () => new Promise((r) => setTimeout(r, 30));

describe('hashWhileWritten', () => {
  it('hashes a file appended to in pieces, before and after it exists, up to the last byte written before the write ends', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'chunk.parquet');
    const write = deferred();
    const hashing = hashWhileWritten(file, write.promise);
    await yieldToHasher();
    const pieces = [Buffer.alloc(3 * 1024 * 1024, 7), Buffer.from('middle'), Buffer.alloc(1500 * 1024, 9)];
    for (const piece of pieces) {
      await appendFile(file, piece);
      await yieldToHasher();
    }
    // The last bytes land just before the write ends, with no chance for the hasher to see them first.
    await appendFile(file, 'footer');
    write.resolve();
    const content = await readFile(file);
    assert.deepEqual(await hashing, { sha256: sha(content), bytes: content.length });
  });

  it('hashes a file longer than its writeback step, written in pieces of a few MB', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'big.parquet');
    const write = deferred();
    const hashing = hashWhileWritten(file, write.promise);
    for (let i = 0; i < 18; i++) {
      await appendFile(file, Buffer.alloc(4 * 1024 * 1024, i));
      await yieldToHasher();
    }
    write.resolve();
    const content = await readFile(file);
    assert.deepEqual(await hashing, { sha256: sha(content), bytes: content.length });
  });

  it('fails with the write\'s error when the write fails', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'chunk.parquet');
    const write = deferred();
    const hashing = hashWhileWritten(file, write.promise);
    await writeFile(file, 'partial');
    await yieldToHasher();
    const failure = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    write.reject(failure);
    await assert.rejects(hashing, (err) => err === failure);
  });

  it('hashes the file the path names at the end when the writer replaced it or rewrote what was read', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, 'chunk.parquet');
    const replaced = deferred();
    const hashingReplaced = hashWhileWritten(file, replaced.promise);
    await writeFile(file, 'first version, read while written');
    await yieldToHasher();
    await writeFile(path.join(dir, 'other'), 'the file the writer renamed over it');
    await rename(path.join(dir, 'other'), file);
    replaced.resolve();
    const final = await readFile(file);
    assert.deepEqual(await hashingReplaced, { sha256: sha(final), bytes: final.length });

    const shrunk = path.join(dir, 'shrunk.parquet');
    const truncated = deferred();
    const hashingTruncated = hashWhileWritten(shrunk, truncated.promise);
    await writeFile(shrunk, 'a long first attempt the writer then truncated');
    await yieldToHasher();
    const fh = await open(shrunk, 'r+');
    await fh.truncate(0);
    await fh.write('short', 0);
    await fh.close();
    truncated.resolve();
    assert.deepEqual(await hashingTruncated, { sha256: sha(Buffer.from('short')), bytes: 5 });
  });

  it('fails like a read when the write ends without a file', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(hashWhileWritten(path.join(dir, 'never.parquet'), Promise.resolve()), { code: 'ENOENT' });
  });
});
