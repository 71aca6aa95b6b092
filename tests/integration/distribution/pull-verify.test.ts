/** `ada pull` verifies what it wrote: bytes corrupted in transit are refused, a resumed download is hashed whole. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { it } from 'node:test';
import { pull } from '../../../ops/pull/index.ts';
import { FileHasher } from '../../../ops/pull/file-hasher.ts';
import { tempDir } from '../../helpers/tmp.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Thirty files of different sizes (more than the downloads at once), some over a MiB. */
function makeFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 30; i++) {
    const b = Buffer.alloc(1000 + i * 97_000);
    for (let j = 0; j < b.length; j += 4) b.writeUInt32LE((j * 2654435761 + i) >>> 0, Math.min(j, b.length - 4));
    files.set(`parquet/f/t/${String(i).padStart(2, '0')}.parquet`, b);
  }
  return files;
}

/**
 * A distribution API on 127.0.0.1 over `files`, honouring Range; `corrupt(path, body)` may change what is sent.
 * Returns its URL and the Range headers it was asked.
 */
async function serve(t: TestContext, files: Map<string, Buffer>, corrupt: (p: string, body: Buffer) => Buffer = (_p, b) => b): Promise<{ url: string; ranges: string[] }> {
  const ranges: string[] = [];
  const manifest = { format: 1, position: 1, analyst: { name: 'x', role: 'analyst', datasets: [] }, tables: [], files: [...files].map(([p, b]) => ({ path: p, size: b.length, sha256: sha256(b), version: 1 })) };
  const server = http.createServer((req, res) => {
    if (req.url === '/api/v1/manifest') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(manifest));
      return;
    }
    const p = decodeURIComponent(req.url!.replace('/api/v1/files/', ''));
    const body = files.get(p);
    if (!body) return void res.writeHead(404).end();
    const sent = corrupt(p, body);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      ranges.push(`${p} ${req.headers.range}`);
      const start = Number(range[1]);
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
      res.end(sent.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': sent.length });
    res.end(sent);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ranges };
}

it('bytes that do not match the manifest\'s sha256 are refused: server/ is not created and the bad download is not kept', async (t) => {
  const files = makeFiles();
  const bad = 'parquet/f/t/17.parquet';
  const { url } = await serve(t, files, (p, b) => {
    if (p !== bad) return b;
    const flipped = Buffer.from(b);
    flipped[flipped.length - 1]! ^= 1;
    return flipped;
  });
  const dir = path.join(await tempDir(t, 'ada-pull-verify-'), 'analyst');
  await assert.rejects(pull({ dir, server: url, token: 'ada_x' }), (err: { code?: string; message: string }) => {
    assert.equal(err.code, 'CHECKSUM_MISMATCH');
    assert.match(err.message, /17\.parquet/);
    return true;
  });
  await assert.rejects(readlink(path.join(dir, 'server')), { code: 'ENOENT' });
  const partials = await readdir(path.join(dir, '.ada', 'partial'));
  assert.ok(!partials.includes(`${sha256(files.get(bad)!)}.part`), 'the corrupted download was removed');
});

it('a resumed download is verified whole: a good prefix is kept, a corrupted one is downloaded again', async (t) => {
  const files = makeFiles();
  const { url, ranges } = await serve(t, files);
  const dir = path.join(await tempDir(t, 'ada-pull-verify-'), 'analyst');
  const good = 'parquet/f/t/20.parquet';
  const spoiled = 'parquet/f/t/25.parquet';
  await mkdir(path.join(dir, '.ada', 'partial'), { recursive: true });
  await writeFile(path.join(dir, '.ada', 'partial', `${sha256(files.get(good)!)}.part`), files.get(good)!.subarray(0, 500_000));
  const wrongPrefix = Buffer.from(files.get(spoiled)!.subarray(0, 300_000));
  wrongPrefix[10]! ^= 1;
  await writeFile(path.join(dir, '.ada', 'partial', `${sha256(files.get(spoiled)!)}.part`), wrongPrefix);

  const result = await pull({ dir, server: url, token: 'ada_x' });
  assert.equal(result.changed, true);
  assert.ok(ranges.includes(`${good} bytes=500000-`), JSON.stringify(ranges));
  assert.ok(ranges.includes(`${spoiled} bytes=300000-`), JSON.stringify(ranges));
  // The spoiled prefix failed the check, so the pull started over (its result is the second attempt's).
  for (const [p, b] of files) assert.ok((await readFile(path.join(dir, 'server', p))).equals(b), p);
  await assert.rejects(readdir(path.join(dir, '.ada', 'partial')), { code: 'ENOENT' }, 'no partial download is left');
});

it('FileHasher hashes files in its worker thread as this thread would, and reports a missing file', async (t) => {
  const root = await tempDir(t, 'ada-hasher-');
  const files = makeFiles();
  const names: string[] = [];
  for (const [p, b] of files) {
    const name = path.join(root, path.basename(p));
    await writeFile(name, b);
    names.push(name);
  }
  await writeFile(path.join(root, 'empty'), '');
  const hasher = new FileHasher();
  t.after(() => hasher.close());
  const hashed = await Promise.all(names.map((n) => hasher.hash(n)));
  assert.deepEqual(hashed.map((h) => h.sha256), [...files.values()].map(sha256));
  for (const [i, n] of names.entries()) {
    const info = await stat(n);
    assert.deepEqual({ size: hashed[i]!.size, mtimeMs: hashed[i]!.mtimeMs }, { size: info.size, mtimeMs: info.mtimeMs }, n);
  }
  assert.equal((await hasher.hash(path.join(root, 'empty'))).sha256, sha256(Buffer.alloc(0)));
  await assert.rejects(hasher.hash(path.join(root, 'missing')), { code: 'ENOENT' });
  hasher.close();
  await assert.rejects(hasher.hash(names[0]!), /closed/);
});
