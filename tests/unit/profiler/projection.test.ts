import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordedEvent } from '../../../events/index.ts';
import { dueTables, emptyProfilerState, evolveProfiler, PROFILER_EVENTS } from '../../../pipeline/projections/profiler/projection.ts';
import type { ProfilerEvent } from '../../../pipeline/projections/profiler/projection.ts';
import { evolverOf } from '../../../pipeline/projection.ts';
import { csvConfig, csvTable } from '../../helpers/csv-config.ts';

let position = 0;
function published(table: string, contentHash: string): ProfilerEvent {
  return {
    type: 'TablePublished', v: 1, id: `e${++position}`, position, at: `2026-03-01T10:00:0${position % 10}.000Z`, source: 'test',
    data: { runId: `r${position}`, table, folder: 'shop', strategy: 'full_refresh', files: [{ path: `parquet/shop/${table}.parquet`, rows: 1, bytes: 10, sha256: 'x' }], rows: 1, bytes: 10, schema: [{ name: 'id', type: 'BIGINT' }], contentHash },
  };
}
function profiled(table: string, contentHash: string): ProfilerEvent {
  return { type: 'TableProfiled', v: 1, id: `e${++position}`, position, at: '2026-03-01T10:01:00.000Z', source: 'profiler', data: { table, contentHash, rows: 1, columns: 1, sampled: false, alerts: 0, durationMs: 5 } };
}

const config = csvConfig('/csv', [csvTable({ name: 'orders' }), csvTable({ name: 'customers' })]);
const evolve = evolverOf({ handles: PROFILER_EVENTS, evolve: evolveProfiler });
const fold = (events: RecordedEvent[]) => events.reduce(evolve, emptyProfilerState());

describe('profiler projection fold', () => {
  it('keeps the latest publish per table and each waiting table once, in publish order', () => {
    const state = fold([published('orders', 'h1'), published('customers', 'c1'), published('orders', 'h2')]);
    assert.deepEqual(state.pending, ['orders', 'customers']);
    assert.equal(state.published.orders!.contentHash, 'h2');
    assert.equal(state.published.orders!.publishedAt, '2026-03-01T10:00:03.000Z');
    assert.deepEqual(dueTables(state, config, false).map((t) => [t.table, t.contentHash]), [['orders', 'h2'], ['customers', 'c1']]);
  });

  it('leaves out tables that are no longer configured', () => {
    const state = fold([published('ghost', 'g1'), published('orders', 'h1')]);
    assert.deepEqual(dueTables(state, config, false).map((t) => t.table), ['orders']);
  });

  it('skips a table already profiled at its latest publish, except when rebuilding', () => {
    const state = fold([published('orders', 'h1'), profiled('orders', 'h1'), published('customers', 'c1'), profiled('customers', 'old')]);
    assert.deepEqual(dueTables(state, config, false).map((t) => t.table), ['customers']);
    assert.deepEqual(dueTables(state, config, true).map((t) => t.table), ['orders', 'customers']);
  });

  it('ignores other events and is pure', () => {
    const before = fold([published('orders', 'h1')]);
    const snapshot = JSON.stringify(before);
    const after = evolveProfiler(before, published('orders', 'h2'));
    assert.equal(JSON.stringify(before), snapshot);
    assert.notEqual(after, before);
    const timer: RecordedEvent = { type: 'TimerFired', v: 1, id: 'x', position: 99, at: '2026-01-01T00:00:00.000Z', source: 't', data: { timer: 't', tables: [], scheduledAt: '', catchUp: false } };
    assert.equal(evolve(before, timer), before);
  });
});
