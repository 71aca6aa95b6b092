import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SyncQueue } from '../../../pipeline/broker/sync-queue.ts';

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

it('a job\'s result is handed back before its after-work, which the next job waits for; its tables stay busy until then', async () => {
  const queue = new SyncQueue();
  const steps: string[] = [];
  const afterGate = deferred();
  const first = queue.enqueue({
    tables: ['orders'],
    run: async () => {
      steps.push('run 1');
      return 1;
    },
    after: async (result) => {
      steps.push(`after 1 (${result})`);
      await afterGate.promise;
      steps.push('after 1 done');
    },
  });
  const second = queue.enqueue({ tables: ['customers'], run: async () => (steps.push('run 2'), 2) });
  assert.equal(await first, 1);
  steps.push('result 1');
  // Let every pending callback run: the second job must still wait for the first one's after-work.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(steps, ['run 1', 'after 1 (1)', 'result 1']);
  assert.ok(queue.isRunning('orders'), 'busy until its after-work ends');
  afterGate.resolve();
  assert.equal(await second, 2);
  assert.deepEqual(steps, ['run 1', 'after 1 (1)', 'result 1', 'after 1 done', 'run 2']);
  assert.ok(!queue.isRunning('orders'));
  await queue.drain();
});

it('drain waits for the after-work of the last job', async () => {
  const queue = new SyncQueue();
  let done = false;
  const gate = deferred();
  await queue.enqueue({ tables: [], run: async () => 'x', after: async () => { await gate.promise; done = true; } });
  const drained = queue.drain();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(done, false);
  gate.resolve();
  await drained;
  assert.equal(done, true);
  await assert.rejects(queue.enqueue({ tables: [], run: async () => 1 }), { code: 'CANCELLED' });
});
