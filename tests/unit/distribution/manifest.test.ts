import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdaConfig } from '../../../config/index.ts';
import type { RecordedEvent } from '../../../events/index.ts';
import { emptyManifest, evolveManifest as evolveTyped, manifestFor } from '../../../pipeline/projections/manifest/index.ts';
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
});
