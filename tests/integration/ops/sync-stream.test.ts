import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import type { SyncProgress } from '../../../pipeline/index.ts';
import { controlSocketOf } from '../../../ops/control/socket-path.ts';
import { syncThroughServer } from '../../../ops/control/sync-client.ts';
import { serveControl } from '../../helpers/broker.ts';
import { ordersInstance } from '../../helpers/instance.ts';
import { tempDir } from '../../helpers/tmp.ts';

it('POST /sync streams the progress of the sync it runs, then its outcomes or its refusal', { timeout: 90_000 }, async (t) => {
  const inst = await ordersInstance(t, 'id\n1\n2\n', `  - id: csv.shop.items
    name: items
    description: Items
    file: items.csv
`);
  await inst.writeCsv('items.csv', 'id\n7\n');
  const { broker } = await serveControl(t, inst);

  const progress: SyncProgress[] = [];
  let accepted = 0;
  const outcomes = await syncThroughServer(inst.dataDir, [], { source: 'cli:sync', onAccepted: () => accepted++, onProgress: (p) => progress.push(p) });
  assert.equal(accepted, 1);
  assert.deepEqual(outcomes!.map((o) => [o.table, o.status, o.rows]), [['orders', 'succeeded', 2], ['items', 'succeeded', 1]]);
  const finished = progress.filter((p) => p.phase === 'done').map((p) => [p.table, p.index, p.total, p.rows]);
  assert.deepEqual(finished, [['orders', 1, 2, 2], ['items', 2, 2, 1]], 'every table\'s progress reaches the client, in order');
  assert.ok(progress.some((p) => p.phase === 'start'));

  await assert.rejects(syncThroughServer(inst.dataDir, ['orders', 'nope'], { source: 'cli:sync' }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'BAD_ARGUMENT');
    assert.equal(err.message, 'unknown table nope; configured: orders, items');
    return true;
  });

  // Given up by the client once the server took it: the client stops waiting, the server finishes the sync.
  const controller = new AbortController();
  await assert.rejects(syncThroughServer(inst.dataDir, ['items'], { source: 'cli:sync', signal: controller.signal, onAccepted: () => controller.abort() }), { code: 'CANCELLED' });
  const [again] = await broker.sync({ tables: ['items'] });
  assert.equal(again!.status, 'succeeded', 'the server goes on serving after a client left');
});

it('no server on the data directory: no socket, or one left by a killed server, means the sync runs in the command', async (t) => {
  const dataDir = await tempDir(t, 'ada-no-server-');
  assert.equal(await syncThroughServer(dataDir, [], { source: 'cli:sync' }), undefined);
  const socket = controlSocketOf(dataDir);
  await mkdir(path.dirname(socket), { recursive: true });
  await writeFile(socket, '');
  assert.equal(await syncThroughServer(dataDir, [], { source: 'cli:sync' }), undefined, 'a file nobody listens on');
});
