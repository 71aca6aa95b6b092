/** The distribution API remembers the real path of the data dir, and looks it up again when the data dir moved. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import type { ManifestFile } from '../../../pipeline/projections/manifest/index.ts';
import { distributionServer } from '../../helpers/distribution-server.ts';
import { tempDir } from '../../helpers/tmp.ts';

const TOKEN = 'ada_0123456789abcdef_roots-test-token';
const REL = 'parquet/f/t/0.parquet';

it('a file is served from where the data dir\'s symlink points now, and a symlink planted inside is refused', async (t) => {
  const root = await tempDir(t, 'ada-api-roots-');
  const bytes = Buffer.from('the same bytes in both copies');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  for (const copy of ['a', 'b']) {
    await mkdir(path.join(root, copy, 'parquet', 'f', 't'), { recursive: true });
    await writeFile(path.join(root, copy, REL), bytes);
  }
  const dataDir = path.join(root, 'data');
  await symlink(path.join(root, 'a'), dataDir);
  const files: ManifestFile[] = [{ path: REL, size: bytes.length, sha256, version: 1, table: 't' }];
  const app = await distributionServer({ dataDir, folder: 'f', files, token: TOKEN });
  t.after(() => app.close());
  const get = () => app.inject({ method: 'GET', url: `/api/v1/files/${REL}`, headers: { authorization: `Bearer ${TOKEN}` } });

  assert.equal((await get()).statusCode, 200);
  // The data dir moves: its symlink now points at the other copy, and the first copy is gone.
  await symlink(path.join(root, 'b'), `${dataDir}.next`);
  await rename(`${dataDir}.next`, dataDir);
  await rename(path.join(root, 'a'), path.join(root, 'a-gone'));
  const moved = await get();
  assert.equal(moved.statusCode, 200, moved.body);
  assert.equal(moved.body, bytes.toString());
  // A symlink planted in place of the file is refused, through the remembered root as through a fresh one.
  await rename(path.join(root, 'b', REL), path.join(root, 'b', `${REL}.saved`));
  await symlink(path.join(root, 'a-gone', REL), path.join(root, 'b', REL));
  const planted = await get();
  assert.equal(planted.statusCode, 403);
  assert.ok(!planted.body.includes(bytes.toString()));
});
