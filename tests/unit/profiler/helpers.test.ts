import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categoryOf } from '../../../pipeline/projections/profiler/column-category.ts';
import { clip, dateRange, MAX_SAMPLE_CHARS, parseDuckJson, topValues } from '../../../pipeline/projections/profiler/compute-profile.ts';
import { markStale, relatedTables } from '../../../pipeline/projections/profiler/build-profile.ts';
import { resolveOptions } from '../../../pipeline/projections/profiler/profile-tables.ts';
import type { ColumnProfile, TableProfile } from '../../../pipeline/projections/profiler/types.ts';
import { csvConfig, csvTable } from '../../helpers/csv-config.ts';

describe('profiler helpers', () => {
  it('categorises DuckDB types', () => {
    for (const t of ['BIGINT', 'INTEGER', 'DOUBLE', 'FLOAT', 'DECIMAL(18,3)', 'HUGEINT', 'UBIGINT']) assert.equal(categoryOf(t), 'numeric', t);
    for (const t of ['DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_NS']) assert.equal(categoryOf(t), 'date', t);
    for (const t of ['VARCHAR', "ENUM('a', 'b')", 'JSON']) assert.equal(categoryOf(t), 'string', t);
    assert.equal(categoryOf('BOOLEAN'), 'boolean');
    for (const t of ['BLOB', 'VARCHAR[]', 'STRUCT(a INTEGER)', 'MAP(VARCHAR, INTEGER)', 'TIME', 'INTERVAL', 'UUID']) assert.equal(categoryOf(t), 'other', t);
  });

  it('orders top values by count, then value, at most ten, with percents of non-null values', () => {
    const counts = new Map(Object.entries({ b: 2, a: 2, c: 5, ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`z${i}`, 1])) }));
    const top = topValues(counts, 19);
    assert.equal(top.length, 10);
    assert.deepEqual(top.slice(0, 4), [{ value: 'c', count: 5, percent: 26.32 }, { value: 'a', count: 2, percent: 10.53 }, { value: 'b', count: 2, percent: 10.53 }, { value: 'z0', count: 1, percent: 5.26 }]);
  });

  it('reads DuckDB JSON with bare NaN and Infinity, and clips long strings', () => {
    assert.deepEqual(parseDuckJson('[{"a":NaN,"b":-Infinity,"c":"x: NaN, y"},[Infinity]]'), [{ a: 'NaN', b: '-Infinity', c: 'x: NaN, y' }, ['Infinity']]);
    assert.equal(parseDuckJson(null), null);
    const long = 'x'.repeat(MAX_SAMPLE_CHARS + 10);
    assert.deepEqual(clip({ a: [long], b: 1 }), { a: [`${'x'.repeat(MAX_SAMPLE_CHARS)}…`], b: 1 });
  });

  it('picks the date range of the preferred column, else the first date column with values', () => {
    const d = (name: string, earliest: string | null): ColumnProfile => ({
      name, type: 'DATE', category: 'date', null_count: 0, completeness: 100, unique_count: 1, unique_percent: 100, samples: [], is_primary_key: false,
      earliest, latest: earliest === null ? null : '2024-02-01', span_days: 1, histogram: [],
    });
    const cols = [d('empty', null), d('a', '2024-01-01'), d('b', '2023-01-01')];
    assert.equal(dateRange(cols)?.column, 'a');
    assert.deepEqual(dateRange(cols, 'b'), { column: 'b', earliest: '2023-01-01', latest: '2024-02-01', span_days: 1 });
    assert.equal(dateRange(cols, 'nope')?.column, 'a');
    assert.equal(dateRange([d('empty', null)]), null);
  });

  it('lists related tables in both directions, self references included', () => {
    const config = csvConfig('/csv', [
      csvTable({ name: 'orders', foreignKeys: [{ column: 'customer_id', references: 'customers.id', description: 'buyer' }] }),
      csvTable({ name: 'customers' }),
      csvTable({ name: 'lines', foreignKeys: [{ column: 'order_id', references: 'orders.order_id' }] }),
      csvTable({ name: 'staff', foreignKeys: [{ column: 'manager_id', references: 'staff.id' }] }),
    ]);
    assert.deepEqual(relatedTables('orders', config), [
      { table: 'customers', direction: 'outgoing', from: 'orders.customer_id', to: 'customers.id', description: 'buyer' },
      { table: 'lines', direction: 'incoming', from: 'lines.order_id', to: 'orders.order_id' },
    ]);
    assert.deepEqual(relatedTables('customers', config), [{ table: 'orders', direction: 'incoming', from: 'orders.customer_id', to: 'customers.id', description: 'buyer' }]);
    assert.deepEqual(relatedTables('staff', config).map((r) => r.direction), ['outgoing', 'incoming']);
    assert.deepEqual(relatedTables('unconfigured', config), []);
  });

  it('marks a kept profile stale, keeping the time it first went stale', () => {
    const p = { table: 't', stale: false } as TableProfile;
    const once = markStale(p, 'PROFILE_FAILED: x', '2026-01-01T00:00:00.000Z');
    assert.deepEqual([once.stale, once.stale_reason, once.stale_since], [true, 'PROFILE_FAILED: x', '2026-01-01T00:00:00.000Z']);
    const twice = markStale(once, 'PROFILE_TIMEOUT: y', '2026-01-02T00:00:00.000Z');
    assert.deepEqual([twice.stale_reason, twice.stale_since], ['PROFILE_TIMEOUT: y', '2026-01-01T00:00:00.000Z']);
  });

  it('applies option defaults and refuses bad values', () => {
    const o = resolveOptions();
    assert.equal(o.sampleThreshold, 500_000);
    assert.equal(o.sampleSize, 500_000);
    assert.equal(o.memoryLimit, '512MB');
    assert.ok(o.threads >= 1 && o.threads <= 4);
    assert.equal(resolveOptions({ sampleThreshold: 100 }).sampleSize, 100);
    assert.throws(() => resolveOptions({ memoryLimit: "1GB'; DROP" }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => resolveOptions({ threads: 0 }), { code: 'BAD_ARGUMENT' });
  });
});
