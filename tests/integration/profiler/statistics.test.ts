import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnProfile } from '../../../pipeline/projections/profiler/index.ts';
import { csvConfig, csvTable } from '../../helpers/csv-config.ts';
import { near, profilerSandbox } from './sandbox.ts';

/**
 * Ten orders with hand-computed statistics (see the expectations below). order_id 9 appears twice; amount has five
 * zeros of nine values; status is 70 % "paid"; note is 60 % missing; region is constant; tags is a list (other).
 */
const ORDERS = `SELECT CAST(order_id AS BIGINT) AS order_id, CAST(customer_id AS BIGINT) AS customer_id, CAST(amount AS DOUBLE) AS amount,
    status, note, CAST(ordered_on AS DATE) AS ordered_on, paid, region, tags
  FROM (VALUES
    (1, 101, -3, 'paid', 'a', '2024-01-01', true, 'EU', ['x']),
    (2, 102, 0, 'paid', 'bb', '2024-01-01', true, 'EU', ['x']),
    (3, 103, 0, 'paid', 'ccc', '2024-01-05', true, 'EU', ['x']),
    (4, 101, 0, 'paid', 'dddd', '2024-01-10', true, 'EU', ['x']),
    (5, 102, 0, 'paid', NULL, '2024-01-15', true, 'EU', ['x']),
    (6, 103, 0, 'paid', NULL, '2024-01-20', true, 'EU', ['x', 'y']),
    (7, 101, 6, 'paid', NULL, '2024-01-25', true, 'EU', ['x', 'y']),
    (8, 102, 9, 'shipped', NULL, '2024-01-29', true, 'EU', ['x', 'y']),
    (9, 103, 12, 'shipped', NULL, '2024-01-31', false, 'EU', ['x', 'y']),
    (9, NULL, NULL, 'cancelled', NULL, NULL, false, 'EU', ['x', 'y'])
  ) t(order_id, customer_id, amount, status, note, ordered_on, paid, region, tags)`;

const CUSTOMERS = `SELECT CAST(id AS BIGINT) AS id, name, CAST(since AS TIMESTAMP) AS since FROM (VALUES
    (101, 'Ann', '2023-01-01 10:00:00'), (102, 'Bob', '2023-01-02 10:00:00'), (103, 'Cy', '2023-01-04 10:00:00')) t(id, name, since)`;

const config = csvConfig('/csv', [
  csvTable({ name: 'orders', description: 'Orders of the shop', primaryKey: ['order_id'], foreignKeys: [{ column: 'customer_id', references: 'customers.id', description: 'who ordered' }] }),
  csvTable({ name: 'customers', primaryKey: ['id'], private: true }),
  csvTable({ name: 'order_lines', foreignKeys: [{ column: 'order_id', references: 'orders.order_id' }] }),
]);

function column<C extends ColumnProfile['category']>(columns: ColumnProfile[], name: string, category: C): Extract<ColumnProfile, { category: C }> {
  const c = columns.find((x) => x.name === name);
  assert.ok(c, `column ${name}`);
  assert.equal(c.category, category, `category of ${name}`);
  return c as Extract<ColumnProfile, { category: C }>;
}

const counts = (bins: Array<{ count: number }>): number[] => bins.map((b) => b.count);

describe('profiler statistics (hand-computed fixture)', () => {
  it('computes table, column and alert statistics value by value', async (t) => {
    const box = await profilerSandbox(t);
    const published = await box.publish('orders', ORDERS);
    await box.publish('customers', CUSTOMERS);
    await box.catchUp(config);

    const doc = await box.profiles();
    assert.equal(doc.version, 1);
    assert.ok(!Number.isNaN(Date.parse(doc.generated_at)));
    assert.deepEqual(Object.keys(doc.tables).sort(), ['customers', 'orders']);

    const p = await box.profile('orders');
    const [event] = await box.events('TablePublished');
    assert.equal(p.table, 'orders');
    assert.equal(p.folder, 'shop');
    assert.equal(p.description, 'Orders of the shop');
    assert.equal(p.content_hash, published.contentHash);
    assert.equal(p.row_count, 10);
    assert.equal(p.column_count, 9);
    assert.equal(p.file_count, 1);
    assert.equal(p.file_size, published.bytes);
    assert.equal(p.file_size_mb, Math.round((published.bytes / 1048576) * 100) / 100);
    assert.equal(p.last_sync, event!.at, 'last_sync is the publish time');
    assert.equal(p.sync_strategy, 'full_refresh');
    assert.deepEqual(p.primary_key, ['order_id']);
    assert.equal(p.sampled, false);
    assert.equal(p.sample_size, 10);
    // Completeness 100, 90, 90, 100, 40, 90, 100, 100, 100 → 810 / 9.
    assert.equal(p.avg_completeness, 90);
    assert.equal(p.missing_cells, 9);
    assert.equal(p.duplicate_primary_keys, 1);
    assert.equal(p.null_primary_keys, 0);
    assert.deepEqual(p.date_range, { column: 'ordered_on', earliest: '2024-01-01', latest: '2024-01-31', span_days: 30 });
    assert.equal(p.stale, false);
    assert.equal(p.private, undefined);

    const cols = p.columns;
    assert.deepEqual(cols.map((c) => [c.name, c.type, c.category]), [
      ['order_id', 'BIGINT', 'numeric'], ['customer_id', 'BIGINT', 'numeric'], ['amount', 'DOUBLE', 'numeric'], ['status', 'VARCHAR', 'string'],
      ['note', 'VARCHAR', 'string'], ['ordered_on', 'DATE', 'date'], ['paid', 'BOOLEAN', 'boolean'], ['region', 'VARCHAR', 'string'], ['tags', 'VARCHAR[]', 'other'],
    ]);

    // order_id: 1..9 and 9 again. Mean 54/10; median (5 + 6) / 2; stddev sqrt((366 − 10 · 5.4²) / 9).
    const id = column(cols, 'order_id', 'numeric');
    assert.deepEqual([id.null_count, id.completeness, id.unique_count, id.unique_percent, id.is_primary_key], [0, 100, 9, 90, true]);
    assert.deepEqual([id.min, id.max, id.mean, id.median], [1, 9, 5.4, 5.5]);
    assert.ok(near(id.stddev, Math.sqrt(74.4 / 9)), `stddev ${id.stddev}`);
    // quantile_cont: position q · (n − 1) between the sorted values 1 … 9, 9.
    assert.deepEqual([id.p5, id.p25, id.p75, id.p95], [1.45, 3.25, 7.75, 9]);
    assert.deepEqual([id.zeros, id.negatives], [0, 0]);
    // Width 8/15: bins of 1,2,3,…,9 are 0,1,3,5,7,9,11,13,14 (9 twice, the maximum in the last bin).
    assert.deepEqual(counts(id.histogram), [1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2]);
    assert.equal(id.histogram[0]!.start, 1);
    assert.ok(near(id.histogram[0]!.end, 1 + 8 / 15));
    assert.equal(id.histogram[14]!.end, 9);

    // customer_id: 101, 102, 103 three times each and a null.
    const cust = column(cols, 'customer_id', 'numeric');
    assert.deepEqual([cust.null_count, cust.completeness, cust.unique_count, cust.unique_percent], [1, 90, 3, 33.33]);
    assert.deepEqual([cust.min, cust.max, cust.mean, cust.median, cust.p5, cust.p25, cust.p75, cust.p95], [101, 103, 102, 102, 101, 101, 103, 103]);
    assert.ok(near(cust.stddev, Math.sqrt(6 / 8)));
    assert.deepEqual(counts(cust.histogram), [3, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 3]);

    // amount: −3, 0 ×5, 6, 9, 12 and a null. Mean 24/9; SS = 270 − 9 · (24/9)² = 206; stddev sqrt(206/8).
    const amount = column(cols, 'amount', 'numeric');
    assert.deepEqual([amount.null_count, amount.completeness, amount.unique_count, amount.unique_percent], [1, 90, 5, 55.56]);
    assert.deepEqual([amount.min, amount.max, amount.median], [-3, 12, 0]);
    assert.ok(near(amount.mean, 24 / 9), `mean ${amount.mean}`);
    assert.ok(near(amount.stddev, Math.sqrt(206 / 8)), `stddev ${amount.stddev}`);
    assert.deepEqual([amount.p5, amount.p25, amount.p75, amount.p95], [-1.8, 0, 6, 10.8]);
    assert.deepEqual([amount.zeros, amount.negatives], [5, 1]);
    // Width 1 from −3: −3 → bin 0, 0 → 3, 6 → 9, 9 → 12, 12 → 14.
    assert.deepEqual(counts(amount.histogram), [1, 0, 0, 5, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1]);
    assert.deepEqual(amount.histogram.slice(0, 2).map((b) => [b.start, b.end]), [[-3, -2], [-2, -1]]);

    // status: paid ×7, shipped ×2, cancelled ×1; lengths (4·7 + 7·2 + 9) / 10.
    const status = column(cols, 'status', 'string');
    assert.deepEqual([status.null_count, status.unique_count, status.unique_percent, status.min_length, status.max_length, status.avg_length], [0, 3, 30, 4, 9, 5.1]);
    assert.deepEqual(status.top_values, [{ value: 'paid', count: 7, percent: 70 }, { value: 'shipped', count: 2, percent: 20 }, { value: 'cancelled', count: 1, percent: 10 }]);
    assert.deepEqual([...status.samples].sort(), ['cancelled', 'paid', 'shipped']);

    const note = column(cols, 'note', 'string');
    assert.deepEqual([note.null_count, note.completeness, note.unique_count, note.unique_percent, note.min_length, note.max_length, note.avg_length], [6, 40, 4, 100, 1, 4, 2.5]);
    assert.deepEqual(note.top_values, ['a', 'bb', 'ccc', 'dddd'].map((value) => ({ value, count: 1, percent: 25 })));
    assert.deepEqual([...note.samples].sort(), ['a', 'bb', 'ccc', 'dddd']);

    // ordered_on: day offsets 0, 0, 4, 9, 14, 19, 24, 28, 30 over 30 days → 2-day bins 0, 0, 2, 4, 7, 9, 12, 14, 14.
    const on = column(cols, 'ordered_on', 'date');
    assert.deepEqual([on.null_count, on.unique_count, on.earliest, on.latest, on.span_days], [1, 8, '2024-01-01', '2024-01-31', 30]);
    assert.deepEqual(counts(on.histogram), [2, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 2]);
    assert.deepEqual(on.histogram.slice(0, 2).map((b) => [b.start, b.end]), [['2024-01-01', '2024-01-03'], ['2024-01-03', '2024-01-05']]);
    assert.equal(on.histogram[14]!.end, '2024-01-31');
    assert.ok(on.samples.every((s) => typeof s === 'string' && /^2024-01-\d\d$/.test(s)));

    const paid = column(cols, 'paid', 'boolean');
    assert.deepEqual([paid.true_count, paid.false_count, paid.unique_count, paid.null_count], [8, 2, 2, 0]);

    const region = column(cols, 'region', 'string');
    assert.deepEqual([region.unique_count, region.samples, region.top_values], [1, ['EU'], [{ value: 'EU', count: 10, percent: 100 }]]);

    const tags = column(cols, 'tags', 'other');
    assert.deepEqual([tags.null_count, tags.unique_count, tags.unique_percent], [0, 2, 20]);
    assert.deepEqual(tags.samples.map((s) => JSON.stringify(s)).sort(), ['["x","y"]', '["x"]']);

    assert.deepEqual(p.alerts.map((a) => [a.type, a.column ?? null, a.severity]), [
      ['duplicate_primary_key', null, 'critical'],
      ['missing', 'customer_id', 'info'],
      ['missing', 'amount', 'info'],
      ['zeros', 'amount', 'info'],
      ['imbalance', 'status', 'info'],
      ['high_missing', 'note', 'warning'],
      ['unique', 'note', 'info'],
      ['missing', 'ordered_on', 'info'],
      ['imbalance', 'paid', 'info'],
      ['constant', 'region', 'warning'],
    ]);
    assert.match(p.alerts[4]!.message, /"paid" is 70 % of status's values/);

    assert.equal(p.sample_rows.length, 5);
    for (const row of p.sample_rows) {
      assert.deepEqual(Object.keys(row), ['order_id', 'customer_id', 'amount', 'status', 'note', 'ordered_on', 'paid', 'region', 'tags']);
      assert.ok(typeof row.order_id === 'number' && row.order_id >= 1 && row.order_id <= 9);
      assert.equal(row.region, 'EU');
    }

    assert.deepEqual(p.related_tables, [
      { table: 'customers', direction: 'outgoing', from: 'orders.customer_id', to: 'customers.id', description: 'who ordered' },
      { table: 'order_lines', direction: 'incoming', from: 'order_lines.order_id', to: 'orders.order_id' },
    ]);
  });

  it('profiles timestamps, private tables and incoming foreign keys; appends TableProfiled per table', async (t) => {
    const box = await profilerSandbox(t);
    const published = await box.publish('customers', CUSTOMERS);
    await box.catchUp(config);
    const c = await box.profile('customers');
    assert.equal(c.private, true, 'a private table is flagged in its profile');
    assert.deepEqual(c.related_tables, [{ table: 'orders', direction: 'incoming', from: 'orders.customer_id', to: 'customers.id', description: 'who ordered' }]);
    const since = column(c.columns, 'since', 'date');
    assert.deepEqual([since.type, since.earliest, since.latest, since.span_days], ['TIMESTAMP', '2023-01-01 10:00:00', '2023-01-04 10:00:00', 3]);
    assert.equal(since.histogram[0]!.start, '2023-01-01 10:00:00');
    assert.equal(since.histogram[1]!.start, '2023-01-01 14:48:00');
    assert.deepEqual(counts(since.histogram), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(c.date_range, { column: 'since', earliest: '2023-01-01 10:00:00', latest: '2023-01-04 10:00:00', span_days: 3 });
    assert.deepEqual(c.alerts.map((a) => [a.type, a.column]), [['unique', 'name'], ['unique', 'since']]);

    const events = await box.events('TableProfiled');
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.key, `profiled:customers:${published.contentHash}`);
    assert.equal(e.source, 'profiler');
    assert.deepEqual({ ...e.data, durationMs: 0 }, { table: 'customers', contentHash: published.contentHash, rows: 3, columns: 3, sampled: false, alerts: 2, durationMs: 0 });
  });

  it('reads a partitioned table from all its files, even when a partition lacks a column (union_by_name)', async (t) => {
    const box = await profilerSandbox(t);
    await box.publish('order_lines', {
      '2024_01': `SELECT CAST(i AS BIGINT) AS order_id, CAST(i * 10 AS DOUBLE) AS price FROM range(1, 4) r(i)`,
      '2024_02': `SELECT CAST(i AS BIGINT) AS order_id, CAST(i * 10 AS DOUBLE) AS price, 'late' AS remark FROM range(4, 6) r(i)`,
    }, { strategy: 'partitioned' });
    await box.catchUp(config);
    const p = await box.profile('order_lines');
    assert.equal(p.row_count, 5);
    assert.equal(p.file_count, 2);
    assert.deepEqual(p.columns.map((c) => [c.name, c.null_count]), [['order_id', 0], ['price', 0], ['remark', 3]]);
    assert.deepEqual([column(p.columns, 'price', 'numeric').mean, column(p.columns, 'price', 'numeric').median], [30, 30]);
    assert.equal(p.sync_strategy, 'partitioned');
  });

  it('leaves NaN and infinities out of numeric statistics and keeps large integers exact', async (t) => {
    const box = await profilerSandbox(t);
    await box.publish('orders', `SELECT CAST(x AS DOUBLE) AS x, CAST(big AS BIGINT) AS big FROM (VALUES
        ('1', 1234567890123456), ('2', 1234567890123457), ('nan', NULL), ('inf', NULL), ('-inf', NULL), ('3', NULL), (NULL, NULL)) t(x, big)`);
    await box.catchUp(config);
    const p = await box.profile('orders');
    const x = column(p.columns, 'x', 'numeric');
    assert.deepEqual([x.null_count, x.min, x.max, x.mean, x.median, x.negatives], [1, 1, 3, 2, 2, 1]);
    assert.ok(near(x.stddev, 1));
    assert.deepEqual(counts(x.histogram).filter((n) => n > 0), [1, 1, 1]);
    const big = column(p.columns, 'big', 'numeric');
    assert.deepEqual([big.min, big.max, big.mean, big.median], [1234567890123456, 1234567890123457, 1234567890123456.5, 1234567890123456.5]);
    assert.ok(x.samples.every((v) => [1, 2, 3, 'NaN', 'Infinity', '-Infinity'].includes(v as number | string)), JSON.stringify(x.samples));
    assert.ok(p.sample_rows.every((r) => [1, 2, 3, 'NaN', 'Infinity', '-Infinity', null].includes(r.x as number | string | null)), 'non-finite values show as strings');
  });

  it('profiles an empty table', async (t) => {
    const box = await profilerSandbox(t);
    await box.publish('orders', `${ORDERS} LIMIT 0`);
    await box.catchUp(config);
    const p = await box.profile('orders');
    assert.deepEqual([p.row_count, p.column_count, p.avg_completeness, p.missing_cells, p.duplicate_primary_keys, p.date_range, p.sample_rows], [0, 9, 100, 0, 0, null, []]);
    assert.deepEqual(p.alerts.map((a) => a.type), ['empty']);
    const amount = column(p.columns, 'amount', 'numeric');
    assert.deepEqual([amount.min, amount.mean, amount.median, amount.histogram], [null, null, null, []]);
  });
});
