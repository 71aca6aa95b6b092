/**
 * Jira's timers across a restart: their last firings are restored from the log (the timers fold, as `ada serve`
 * hands them over), so a restart neither fires a timer again nor forgets a firing missed while it was down.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { BlobStore, CheckpointStore, EventLog } from '../../../events/index.ts';
import { lastFiredTimes, ProjectionRunner, timersProjection } from '../../../pipeline/index.ts';
import type { TimersState } from '../../../pipeline/index.ts';
import { jiraConnector } from '../../../connectors/jira/index.ts';
import { FakeJira } from '../../fixtures/jira/fake-jira.ts';
import { testSettings } from './jira-harness.ts';

const MIN = 60_000;

it('Jira timers restore their last firings at start: no second firing after a restart, one catch-up for a missed one', { timeout: 120_000 }, async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ada-jira-timers-'));
  const fake = await new FakeJira().start();
  t.after(async () => {
    await fake.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Runs the Jira runtime from `startMs` to `untilMs` of a virtual clock (a process lifetime); returns the firings it recorded. */
  const lifetime = async (startMs: number, untilMs: number): Promise<Array<{ timer: string; scheduledAt: string; catchUp: boolean }>> => {
    const log = await EventLog.open(path.join(dataDir, 'events'));
    const blobs = await BlobStore.create(path.join(dataDir, 'blobs'));
    const runner = new ProjectionRunner(log, new CheckpointStore(path.join(dataDir, 'metadata', 'checkpoints')), dataDir);
    const before = log.head;
    await runner.catchUp(timersProjection);
    const lastFired = lastFiredTimes(runner.stateOf(timersProjection) as TimersState);
    const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
    scheduler.frame = startMs;
    const runtime = await jiraConnector.start({ settings: testSettings(fake), log, blobs, runner, dataDir, scheduler, lastFired, warn: () => undefined, sleep: async () => undefined });
    try {
      scheduler.maxFrames = untilMs;
      scheduler.flush();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      await runtime.timersIdle();
    } finally {
      await runtime.stop();
    }
    const fired: Array<{ timer: string; scheduledAt: string; catchUp: boolean }> = [];
    await new Promise<void>((resolve, reject) => log.read$(before + 1).subscribe({
      next: (e) => { if (e.type === 'TimerFired') fired.push({ timer: e.data.timer, scheduledAt: e.data.scheduledAt, catchUp: e.data.catchUp }); },
      complete: resolve, error: reject,
    }));
    await log.close();
    return fired.sort((a, b) => a.timer.localeCompare(b.timer) || a.scheduledAt.localeCompare(b.scheduledAt));
  };
  const at = (ms: number): string => new Date(ms).toISOString();

  // First run: 00:00–00:31 fires the consistency pass at 00:30 and the SLA poll at 00:15 and 00:30 (when SLA fields are set).
  const first = await lifetime(0, 31 * MIN);
  assert.deepEqual(first.filter((f) => f.timer === 'jira:consistency'), [{ timer: 'jira:consistency', scheduledAt: at(30 * MIN), catchUp: false }]);

  // Restarted at 00:40: nothing was missed, so nothing fires before the next slot (00:59 here).
  assert.deepEqual(await lifetime(40 * MIN, 59 * MIN), []);

  // Restarted at 01:10 after missing 01:00: exactly one catch-up firing for it, then the regular 01:30.
  const third = await lifetime(70 * MIN, 91 * MIN);
  assert.deepEqual(third.filter((f) => f.timer === 'jira:consistency'), [
    { timer: 'jira:consistency', scheduledAt: at(60 * MIN), catchUp: true },
    { timer: 'jira:consistency', scheduledAt: at(90 * MIN), catchUp: false },
  ]);
  // The weekly deep pass never fired: there is nothing to catch up for it.
  assert.ok(!third.some((f) => f.timer === 'jira:consistency-deep'));
});
