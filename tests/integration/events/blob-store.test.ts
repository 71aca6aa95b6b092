import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BlobStore } from '../../../events/index.ts';
import { tempDir } from '../../helpers/tmp.ts';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

describe('BlobStore.putFile', () => {
  it('moves a file in under its hash, hashing it, or trusting the digest it is given', async (t) => {
    const dir = await tempDir(t);
    const store = await BlobStore.create(path.join(dir, 'blobs'));
    const hashed = path.join(dir, 'hashed.parquet');
    await writeFile(hashed, 'rows of the first chunk');
    assert.deepEqual(await store.putFile(hashed), { sha256: sha('rows of the first chunk'), bytes: 23 });
    await assert.rejects(stat(hashed), { code: 'ENOENT' });

    const digested = path.join(dir, 'digested.parquet');
    await writeFile(digested, 'rows of the second chunk');
    const digest = { sha256: sha('rows of the second chunk'), bytes: 24 };
    assert.deepEqual(await store.putFile(digested, { digest }), digest);
    assert.equal((await store.read(digest.sha256)).toString(), 'rows of the second chunk');
    assert.equal(await readFile(await store.verifiedPath(digest.sha256), 'utf8'), 'rows of the second chunk');
  });

  it('refuses a digest whose size is not the file\'s, or that is no sha256, and leaves the file where it was', async (t) => {
    const dir = await tempDir(t);
    const store = await BlobStore.create(path.join(dir, 'blobs'));
    const file = path.join(dir, 'chunk.parquet');
    await writeFile(file, 'rows');
    await assert.rejects(store.putFile(file, { digest: { sha256: sha('rows'), bytes: 5 } }), { code: 'BAD_ARGUMENT' });
    await assert.rejects(store.putFile(file, { digest: { sha256: 'not-a-hash', bytes: 4 } }), { code: 'BAD_ARGUMENT' });
    assert.equal(await readFile(file, 'utf8'), 'rows');
    assert.deepEqual(await store.list(), []);
  });

  it('keeps the stored blob when the same content comes again', async (t) => {
    const dir = await tempDir(t);
    const store = await BlobStore.create(path.join(dir, 'blobs'));
    const first = path.join(dir, 'a');
    const again = path.join(dir, 'b');
    await writeFile(first, 'same rows');
    await writeFile(again, 'same rows');
    const blob = await store.putFile(first);
    const before = await stat(store.pathOf(blob.sha256));
    assert.deepEqual(await store.putFile(again, { digest: blob }), blob);
    assert.equal((await stat(store.pathOf(blob.sha256))).ino, before.ino);
    await assert.rejects(stat(again), { code: 'ENOENT' });
  });
});

describe('BlobStore.verifyAhead', () => {
  it('hashes blobs before they are asked for; a bad or missing one fails only the verifiedPath that asks for it', async (t) => {
    const dir = await tempDir(t);
    const writer = await BlobStore.create(path.join(dir, 'blobs'));
    const shas: string[] = [];
    for (let i = 0; i < 10; i++) {
      const file = path.join(dir, `chunk-${i}.parquet`);
      await writeFile(file, `rows of chunk ${i}`);
      shas.push((await writer.putFile(file)).sha256);
    }
    const [early, bad] = shas as [string, string];
    await writeFile(writer.pathOf(bad), 'not the rows it was stored with');
    const missing = sha('never stored');
    // Another process: nothing verified yet.
    const reader = await BlobStore.create(path.join(dir, 'blobs'));
    await reader.verifyAhead([...shas, missing]);
    // Verified ahead: a later change to the file is not looked at again (as after any verification in this process).
    await writeFile(reader.pathOf(early), 'changed after it was verified');
    assert.equal(await reader.verifiedPath(early), reader.pathOf(early));
    await assert.rejects(reader.verifiedPath(bad), { code: 'BLOB_CORRUPT' });
    await assert.rejects(reader.verifiedPath(missing), { code: 'BLOB_MISSING' });
    for (const s of shas.slice(2)) assert.equal(await readFile(await reader.verifiedPath(s), 'utf8'), `rows of chunk ${shas.indexOf(s)}`);
    // Two callers of one verification in progress share it.
    const fresh = await BlobStore.create(path.join(dir, 'blobs'));
    const [a, b] = await Promise.all([fresh.verifiedPath(shas[2]!), fresh.verifiedPath(shas[2]!)]);
    assert.equal(a, b);
    await fresh.verifyAhead([]);
  });
});
