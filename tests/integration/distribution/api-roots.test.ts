/** The distribution API remembers the real path of the data dir, and looks it up again when the data dir moved. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import type { AdaConfig } from '../../../config/index.ts';
import type { ManifestFile, ManifestState } from '../../../pipeline/projections/manifest/index.ts';
import { buildServer } from '../../../portal/index.ts';
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
  const state: ManifestState = {
    tables: { t: { table: 't', folder: 'f', strategy: 'partitioned', rows: 0, bytes: bytes.length, schema: [], publishedAt: new Date().toISOString(), contentHash: 'x', version: 1, files } },
    fileSets: {},
    docs: { public: [], all: [] },
    pending: 0,
  };
  const config = {
    tables: [{ name: 't', private: false, foreignKeys: [] }],
    instance: { datasets: {}, auth: { webappSecretKey: 'roots-test-secret-key-0123456789abcdef' } },
  } as unknown as AdaConfig;
  const app = await buildServer({
    config,
    health: () => Promise.reject(new Error('not used')),
    authenticate: ({ token }) => (token === TOKEN ? { name: 'x', role: 'analyst' } : undefined),
    distribution: {
      dataDir,
      blobsDir: `${dataDir}/blobs`,
      manifest: async () => ({ state, position: 1 }),
      datasets: async () => new Set<string>(),
      denied: async () => undefined,
    },
  });
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
