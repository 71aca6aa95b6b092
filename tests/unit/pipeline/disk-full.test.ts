import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { DISK_FULL, diskFullError } from '../../../pipeline/disk-full.ts';

/** Writes go to /dev/full only while it is the character device: written to as a plain path it would become a file. */
const devFull = await stat('/dev/full').then((s) => s.isCharacterDevice(), () => false);
const skip = devFull ? false : '/dev/full is not available';

/** The error a real write raises; /dev/full answers every write with ENOSPC, as a full disk does. */
async function failure(write: () => Promise<unknown>): Promise<unknown> {
  try {
    await write();
  } catch (err) {
    return err;
  }
  assert.fail('the write should fail');
}

/** An error shaped as Node's fs calls throw it (what a full disk gives a copy), without filling a disk. */
function errnoError(message: string, fields: { code: string; path?: string; dest?: string }): Error {
  const err = new Error(message) as Error & { code?: string; path?: string; dest?: string };
  err.code = fields.code;
  if (fields.path !== undefined) err.path = fields.path;
  if (fields.dest !== undefined) err.dest = fields.dest;
  return err;
}

describe('diskFullError', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ada-disk-full-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('names the file Node\'s pathless `…, write` error was about, the space needed and free, and the outcome', { skip }, async () => {
    const err = await failure(() => writeFile('/dev/full', Buffer.alloc(4096)));
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    assert.match((err as Error).message, /^ENOSPC: no space left on device, write$/, 'the error that reached users');
    const target = path.join(dir, 'sync_state.json');
    const out = await diskFullError(err, { path: target, bytesNeeded: 3 * 1024 * 1024, outcome: 'the previous version is kept' }) as Error & { code: string; details: Record<string, unknown> };
    assert.equal(out.code, DISK_FULL);
    assert.match(out.message, new RegExp(`^Not enough disk space to write ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(no space left on device; about 3\\.0 MB needed, [\\d.]+ [KMGT]B free on its filesystem\\); the previous version is kept\\. Free some space`));
    assert.equal(out.details.path, target);
    assert.equal(typeof out.details.bytesFree, 'number');
    assert.equal((out as Error & { cause?: unknown }).cause, err);
  });

  it('prefers the target (`dest`) of a copy over its source', async () => {
    const err = errnoError("ENOSPC: no space left on device, copyfile 'a' -> 'b'", { code: 'ENOSPC', path: '/data/a', dest: '/data/b' });
    const out = await diskFullError(err, { outcome: 'kept' }) as Error & { details: Record<string, unknown> };
    assert.equal(out.details.path, '/data/b');
  });

  it('reads the path from DuckDB\'s IO error', { skip }, async () => {
    const target = path.join(dir, 'out.parquet');
    await symlink('/dev/full', target);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const err = await failure(() => conn.run(`COPY (SELECT range AS x FROM range(100000)) TO '${target.replaceAll("'", "''")}' (FORMAT parquet)`));
    conn.closeSync();
    instance.closeSync();
    const out = await diskFullError(err, { outcome: 'kept' }) as Error & { details: Record<string, unknown> };
    assert.ok(out, String(err));
    assert.equal(out.details.path, target);
  });

  it('leaves other errors alone', async () => {
    assert.equal(await diskFullError(errnoError('EACCES: permission denied', { code: 'EACCES' }), { outcome: 'kept' }), undefined);
    assert.equal(await diskFullError(new Error('IO Error: Could not read file "x": No such file'), { outcome: 'kept' }), undefined);
  });
});
