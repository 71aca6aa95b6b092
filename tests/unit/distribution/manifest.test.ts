import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdaConfig } from '../../../config/index.ts';
import type { RecordedEvent } from '../../../events/index.ts';
import { datasetExclusionOf, emptyManifest, evolveManifest as evolveTyped, manifestFor } from '../../../pipeline/projections/manifest/index.ts';
import type { ManifestEvent, ManifestState } from '../../../pipeline/projections/manifest/index.ts';

const evolveManifest = (s: ManifestState, e: RecordedEvent): ManifestState => evolveTyped(s, e as ManifestEvent);

const published = (position: number, table: string, files: Array<[string, string]>): RecordedEvent => ({
  type: 'TablePublished', v: 1, id: `id-${position}`, position, source: 'test', at: '2026-01-01T00:00:00.000Z',
  data: { runId: 'r', table, folder: 'f', strategy: 'partitioned', files: files.map(([path, sha256]) => ({ path, sha256, rows: 1, bytes: 10 })), rows: files.length, bytes: 10 * files.length, schema: [], contentHash: 'h' },
});

const config = {
  tables: [
    { name: 'orders', private: false, dataset: 'sales', partitionBy: 'day', foreignKeys: [] },
    { name: 'notes', private: false, foreignKeys: [] },
    { name: 'credit', private: true, foreignKeys: [] },
  ],
} as unknown as AdaConfig;

describe('manifest projection', () => {
  it('keeps a file\'s version while its checksum stays, and moves the table\'s version on each publish', () => {
    let s = evolveManifest(emptyManifest(), published(3, 'orders', [['parquet/f/orders/a.parquet', 'A'], ['parquet/f/orders/b.parquet', 'B']]));
    s = evolveManifest(s, published(7, 'orders', [['parquet/f/orders/a.parquet', 'A'], ['parquet/f/orders/b.parquet', 'B2'], ['parquet/f/orders/c.parquet', 'C']]));
    assert.equal(s.tables.orders!.version, 7);
    assert.deepEqual(s.tables.orders!.files.map((f) => [f.path, f.version]), [['parquet/f/orders/a.parquet', 3], ['parquet/f/orders/b.parquet', 7], ['parquet/f/orders/c.parquet', 7]]);
    assert.equal(s.pending, 7);
  });

  it('filters by role and subscription at request time', () => {
    let s = emptyManifest();
    for (const [i, t] of ['orders', 'notes', 'credit'].entries()) s = evolveManifest(s, published(i + 1, t, [[`parquet/f/${t}.parquet`, t]]));
    const names = (role: 'analyst' | 'privileged' | 'admin', datasets: string[]) => manifestFor(s, config, { name: 'x', role, datasets: new Set(datasets) }, 3).tables.map((t) => t.name);
    assert.deepEqual(names('analyst', []), ['notes']);
    assert.deepEqual(names('analyst', ['sales']), ['notes', 'orders']);
    assert.deepEqual(names('privileged', []), ['credit', 'notes']);
    assert.deepEqual(names('admin', []), ['credit', 'notes', 'orders']);
  });

  const sha = (c: string): string => c.repeat(64);
  const filesPublished = (position: number, dataset: string, folder: string, files: Array<[string, string]>): RecordedEvent => ({
    type: 'FilesPublished', v: 1, id: `id-${position}`, position, source: 'test', at: '2026-01-01T00:00:00.000Z',
    data: { dataset, folder, files: files.map(([path, c]) => ({ path, bytes: 3, sha256: sha(c) })) },
  });
  const withDatasets = {
    ...config,
    instance: { datasets: {
      sales: { key: 'sales', label: 'Sales', requires: [] },
      files: { key: 'files', label: 'Files', requires: ['sales'] },
      secret: { key: 'secret', label: 'Secret', requires: [], private: true },
      leaning: { key: 'leaning', label: 'Needs secret', requires: ['secret'] },
    } },
  } as unknown as AdaConfig;

  it('FilesPublished replaces the set of its folder, keeps versions of unchanged files, and an empty list removes it', () => {
    let s = evolveManifest(emptyManifest(), filesPublished(2, 'files', 'att/A-1', [['att/A-1/1_a.txt', 'a'], ['att/A-1/2_b.txt', 'b']]));
    s = evolveManifest(s, filesPublished(3, 'files', 'att/A-2', [['att/A-2/3_c.txt', 'c']]));
    s = evolveManifest(s, filesPublished(5, 'files', 'att/A-1', [['att/A-1/1_a.txt', 'a'], ['att/A-1/4_d.txt', 'd']]));
    assert.deepEqual(s.fileSets['att/A-1']!.files.map((f) => [f.path, f.version, f.dataset]), [['att/A-1/1_a.txt', 2, 'files'], ['att/A-1/4_d.txt', 5, 'files']]);
    assert.equal(s.pending, 0, 'file sets do not rewrite the docs');
    s = evolveManifest(s, filesPublished(6, 'files', 'att/A-2', []));
    assert.deepEqual(Object.keys(s.fileSets), ['att/A-1']);
  });

  it('FilesPublished leaves out paths outside their folder or of another shape, bad checksums, and the broker\'s own folders', () => {
    const odd: Array<[string, string]> = [
      ['att/A-1/../../config/instance.yaml', 'a'], ['att/A-1/./x', 'a'], ['att/A-2/x', 'a'], ['/att/A-1/x', 'a'], ['att/A-1/a\\b', 'a'],
      ['att/A-1/100%.txt', 'a'], ['att/A-1/tab\there', 'a'], ['att/A-1//x', 'a'], ['att/A-1', 'a'], ['att/A-1/ok.txt', 'a'],
    ];
    let s = evolveManifest(emptyManifest(), filesPublished(2, 'files', 'att/A-1', odd));
    const bad: RecordedEvent = { type: 'FilesPublished', v: 1, id: 'id-3', position: 3, source: 'test', at: '2026-01-01T00:00:00.000Z', data: { dataset: 'files', folder: 'att/A-1', files: [{ path: 'att/A-1/ok.txt', bytes: 1, sha256: 'not-hex' }, { path: 'att/A-1/fine.txt', bytes: 1, sha256: sha('b') }] } };
    s = evolveManifest(s, bad);
    assert.deepEqual(s.fileSets['att/A-1']!.files.map((f) => f.path), ['att/A-1/fine.txt']);
    for (const folder of ['parquet/x', 'docs', 'metadata/m', '../up', 'a/../b']) {
      const t = evolveManifest(emptyManifest(), filesPublished(4, 'files', folder, [[`${folder}/f.txt`, 'c']]));
      assert.deepEqual(t.fileSets, {}, folder);
    }
  });

  it('gives a dataset\'s files to its subscribers only, private ones only to privileged analysts and admins, unknown ones to no one', () => {
    let s = emptyManifest();
    for (const [i, d] of ['files', 'secret', 'leaning', 'gone'].entries()) s = evolveManifest(s, filesPublished(i + 1, d, `att/${d}`, [[`att/${d}/f.txt`, String(i)]]));
    const got = (role: 'analyst' | 'privileged' | 'admin', datasets: string[]) => manifestFor(s, withDatasets, { name: 'x', role, datasets: new Set(datasets) }, 4).files.map((f) => f.dataset);
    assert.deepEqual(got('analyst', []), []);
    assert.deepEqual(got('analyst', ['sales', 'files', 'secret', 'leaning', 'gone']), ['files']);
    assert.deepEqual(got('privileged', ['sales', 'files', 'secret', 'leaning']), ['files', 'leaning', 'secret']);
    assert.deepEqual(got('privileged', ['secret']), ['secret']);
    assert.deepEqual(got('admin', []), ['files', 'leaning', 'secret']);
    const reader = { name: 'x', role: 'analyst' as const, datasets: new Set(['leaning', 'secret']) };
    assert.equal(datasetExclusionOf(withDatasets, reader, 'leaning'), 'private', 'requiring a private dataset makes it private');
    assert.equal(datasetExclusionOf(withDatasets, reader, 'files'), 'not-subscribed');
    assert.equal(datasetExclusionOf(withDatasets, { ...reader, role: 'admin' }, 'gone'), 'private');
  });
});
