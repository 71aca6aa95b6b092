/** `ada pull` against a broken or hostile server: a manifest path that could climb out of `server/` stops the pull before any file is written. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { pull } from '../../../ops/pull/index.ts';
import { tempDir } from '../../helpers/tmp.ts';

const BYTES = Buffer.from('payload');
const SHA = createHash('sha256').update(BYTES).digest('hex');

it('a manifest path with .. or an absolute path is refused and nothing is written', async (t) => {
  for (const bad of ['attachments/../../escaped.txt', '/tmp/escaped.txt', 'attachments/a\\..\\..\\b', 'attachments//x']) {
    let served = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/api/v1/manifest') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ format: 1, position: 1, analyst: { name: 'x', role: 'analyst', datasets: [] }, tables: [], files: [{ path: bad, size: BYTES.length, sha256: SHA, version: 1 }] }));
        return;
      }
      served++;
      res.writeHead(200, { etag: `"${SHA}"` });
      res.end(BYTES);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const root = await tempDir(t, 'ada-pull-paths-');
    const dir = path.join(root, 'analyst');
    await assert.rejects(pull({ dir, server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'ada_x' }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'BAD_REQUEST');
      assert.match(err.message, /not a plain relative path/);
      return true;
    }, bad);
    assert.equal(served, 0, `${bad}: no file was requested`);
    assert.deepEqual(await readdir(root), [], `${bad}: nothing was written`);
  }
});
