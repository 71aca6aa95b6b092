import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import type { NewEvent } from '../../../events/index.ts';
import { startScheduler } from '../../../pipeline/scheduler/scheduler.ts';
import type { SchedulerHost } from '../../../pipeline/scheduler/scheduler.ts';
import { nextFiring, previousFiring, timerSpecs } from '../../../pipeline/scheduler/timers.ts';
import type { TimerSpec } from '../../../pipeline/scheduler/timers.ts';
import type { AdaConfig, TableConfig } from '../../../config/index.ts';

const HOUR = 3_600_000;

/** A host whose runs finish when the test says so, on a virtual clock starting at the epoch. */
function harness(specs: TimerSpec[], lastFired = new Map<string, Date>()) {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  const events: NewEvent[] = [];
  const running = new Set<string>();
  const started: string[][] = [];
  const host: SchedulerHost = {
    specs,
    lastFired,
    scheduler,
    append: async (e) => {
      const duplicate = events.some((x) => x.key !== undefined && x.key === e.key);
      if (!duplicate) events.push(e);
      return { duplicate };
    },
    isRunning: (t) => running.has(t),
    startRun: (tables) => {
      for (const t of tables) running.add(t);
      started.push(tables);
    },
  };
  const advanceTo = async (ms: number): Promise<void> => {
    scheduler.maxFrames = ms;
    scheduler.flush();
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { host, scheduler, events, running, started, advanceTo };
}

describe('scheduler', () => {
  it('computes next and previous firings in UTC', () => {
    assert.equal(nextFiring('0 6,12,18 * * *', new Date('2026-01-01T07:00:00Z')).toISOString(), '2026-01-01T12:00:00.000Z');
    assert.equal(nextFiring('0 6,12,18 * * *', new Date('2026-01-01T12:00:00Z')).toISOString(), '2026-01-01T18:00:00.000Z');
    assert.equal(previousFiring('0 6,12,18 * * *', new Date('2026-01-01T12:00:00Z')).toISOString(), '2026-01-01T12:00:00.000Z');
    assert.equal(previousFiring('0 6,12,18 * * *', new Date('2026-01-01T05:00:00Z')).toISOString(), '2025-12-31T18:00:00.000Z');
  });

  it('fires on schedule and records each firing as TimerFired', async () => {
    const h = harness([{ name: 'source:csv', cron: '0 * * * *', tables: ['orders', 'customers'] }]);
    const sub = startScheduler(h.host);
    for (let hour = 1; hour <= 3; hour++) {
      await h.advanceTo(hour * HOUR);
      h.running.clear();
    }
    sub.unsubscribe();
    const fired = h.events.filter((e) => e.type === 'TimerFired');
    assert.deepEqual(fired.map((e) => e.type === 'TimerFired' && e.data.scheduledAt), ['1970-01-01T01:00:00.000Z', '1970-01-01T02:00:00.000Z', '1970-01-01T03:00:00.000Z']);
    assert.deepEqual(fired[0]!.data, { timer: 'source:csv', tables: ['orders', 'customers'], scheduledAt: '1970-01-01T01:00:00.000Z', catchUp: false });
    assert.equal(h.started.length, 3);
  });

  it('never stacks runs: a firing while the table still runs is TimerSkipped, and the next one runs again', async () => {
    const h = harness([{ name: 'table:orders', cron: '0 * * * *', tables: ['orders'] }]);
    const sub = startScheduler(h.host);
    await h.advanceTo(1 * HOUR);
    assert.deepEqual(h.started, [['orders']]);
    await h.advanceTo(2 * HOUR);
    assert.deepEqual(h.started, [['orders']], 'no second run while the first goes on');
    const skipped = h.events.filter((e) => e.type === 'TimerSkipped');
    assert.equal(skipped.length, 1);
    assert.match(skipped[0]!.type === 'TimerSkipped' ? skipped[0]!.data.reason : '', /still going for orders/);
    h.running.delete('orders');
    await h.advanceTo(3 * HOUR);
    assert.deepEqual(h.started, [['orders'], ['orders']]);
    sub.unsubscribe();
  });

  it('runs a firing missed during downtime once at start, and only once', async () => {
    // Last fired the day before; now is the epoch: the 18:00 run of 1969-12-31 was missed.
    const lastFired = new Map([['source:csv', new Date('1969-12-31T06:00:00Z')]]);
    const h = harness([{ name: 'source:csv', cron: '0 6,12,18 * * *', tables: ['orders'] }], lastFired);
    const sub = startScheduler(h.host);
    await h.advanceTo(1);
    const fired = h.events.filter((e) => e.type === 'TimerFired');
    assert.equal(fired.length, 1);
    assert.deepEqual(fired[0]!.type === 'TimerFired' && [fired[0]!.data.catchUp, fired[0]!.data.scheduledAt], [true, '1969-12-31T18:00:00.000Z']);
    sub.unsubscribe();
    const upToDate = harness([{ name: 'source:csv', cron: '0 6,12,18 * * *', tables: ['orders'] }], new Map([['source:csv', new Date('1969-12-31T18:00:00Z')]]));
    const sub2 = startScheduler(upToDate.host);
    await upToDate.advanceTo(1);
    assert.equal(upToDate.events.length, 0);
    sub2.unsubscribe();
  });

  it('groups tables into timers: own schedule, else the source schedule, else three a day', () => {
    const table = (name: string, source: string, schedule?: string) => ({ name, source, ...(schedule ? { schedule } : {}) }) as TableConfig;
    const config = {
      tables: [table('a', 'csv'), table('b', 'csv', '*/5 * * * *'), table('c', 'jira')],
      instance: { dataSource: { type: 'csv', schedule: '0 2 * * *' }, jira: { domain: 'x', schedule: '*/30 * * * *' } },
    } as unknown as AdaConfig;
    assert.deepEqual(timerSpecs(config), [
      { name: 'source:csv', cron: '0 2 * * *', tables: ['a'] },
      { name: 'source:jira', cron: '*/30 * * * *', tables: ['c'] },
      { name: 'table:b', cron: '*/5 * * * *', tables: ['b'] },
    ]);
    const noSchedule = { ...config, instance: { dataSource: { type: 'csv' } } } as unknown as AdaConfig;
    assert.equal(timerSpecs(noSchedule)[0]!.cron, '0 6,12,18 * * *');
  });
});
