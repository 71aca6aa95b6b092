import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALERT_THRESHOLDS, columnAlerts, tableAlerts } from '../../../pipeline/projections/profiler/alerts.ts';
import type { ColumnProfile } from '../../../pipeline/projections/profiler/types.ts';

function stringColumn(over: Partial<Extract<ColumnProfile, { category: 'string' }>> = {}): ColumnProfile {
  return {
    name: 's', type: 'VARCHAR', category: 'string', null_count: 0, completeness: 100, unique_count: 3, unique_percent: 30, samples: ['a'],
    is_primary_key: false, min_length: 1, max_length: 1, avg_length: 1, ...over,
  };
}

function numericColumn(over: Partial<Extract<ColumnProfile, { category: 'numeric' }>> = {}): ColumnProfile {
  return {
    name: 'n', type: 'DOUBLE', category: 'numeric', null_count: 0, completeness: 100, unique_count: 5, unique_percent: 50, samples: [1],
    is_primary_key: false, min: 0, max: 1, mean: 0.5, median: 0.5, stddev: 0.1, p5: 0, p25: 0, p75: 1, p95: 1, zeros: 0, negatives: 0, histogram: [], ...over,
  };
}

const types = (c: ColumnProfile, rows: number): string[] => columnAlerts(c, rows).map((a) => a.type);

describe('alert rules', () => {
  it('missing is strictly above 5 %, high missing strictly above 30 % and replaces it', () => {
    assert.deepEqual(types(stringColumn({ null_count: 5 }), 100), []);
    assert.deepEqual(types(stringColumn({ null_count: 6 }), 100), ['missing']);
    assert.deepEqual(types(stringColumn({ null_count: 30 }), 100), ['missing']);
    assert.deepEqual(types(stringColumn({ null_count: 31 }), 100), ['high_missing']);
    const [a] = columnAlerts(stringColumn({ null_count: 31 }), 100);
    assert.deepEqual({ ...a, message: undefined }, { type: 'high_missing', column: 's', severity: 'warning', message: undefined });
    assert.match(a!.message, /31 %/);
    assert.equal(columnAlerts(stringColumn({ null_count: 6 }), 100)[0]!.severity, 'info');
    assert.equal(ALERT_THRESHOLDS.missingPercent, 5);
    assert.equal(ALERT_THRESHOLDS.highMissingPercent, 30);
  });

  it('an all-null column is high missing only', () => {
    assert.deepEqual(types(stringColumn({ null_count: 10, unique_count: 0, samples: [] }), 10), ['high_missing']);
  });

  it('constant: a single distinct value among at least two; nothing else is said of it', () => {
    const c = stringColumn({ unique_count: 1, top_values: [{ value: 'EU', count: 10, percent: 100 }], samples: ['EU'] });
    assert.deepEqual(columnAlerts(c, 10), [{ type: 'constant', column: 's', severity: 'warning', message: 's has a single value ("EU")' }]);
    assert.deepEqual(types(stringColumn({ unique_count: 1 }), 1), [], 'a one-row table is not constant');
  });

  it('unique: every non-null value distinct, not for primary keys or booleans', () => {
    assert.deepEqual(types(stringColumn({ unique_count: 10 }), 10), ['unique']);
    assert.deepEqual(types(stringColumn({ unique_count: 19, null_count: 1 }), 20), ['unique'], 'relative to non-null values');
    assert.deepEqual(types(stringColumn({ unique_count: 9 }), 10), []);
    assert.deepEqual(types(stringColumn({ unique_count: 10, is_primary_key: true }), 10), []);
    const b: ColumnProfile = { name: 'b', type: 'BOOLEAN', category: 'boolean', null_count: 0, completeness: 100, unique_count: 2, unique_percent: 100, samples: [true, false], is_primary_key: false, true_count: 1, false_count: 1 };
    assert.deepEqual(types(b, 2), []);
  });

  it('imbalance: the top value above 60 % of non-null values (strings with top values, booleans)', () => {
    assert.deepEqual(types(stringColumn({ top_values: [{ value: 'paid', count: 60, percent: 60 }] }), 100), []);
    assert.deepEqual(types(stringColumn({ top_values: [{ value: 'paid', count: 61, percent: 61 }] }), 100), ['imbalance']);
    const b = (t: number, f: number): ColumnProfile => ({ name: 'b', type: 'BOOLEAN', category: 'boolean', null_count: 0, completeness: 100, unique_count: 2, unique_percent: 2, samples: [], is_primary_key: false, true_count: t, false_count: f });
    assert.deepEqual(types(b(6, 4), 10), []);
    assert.deepEqual(types(b(7, 3), 10), ['imbalance']);
    assert.match(columnAlerts(b(3, 7), 10)[0]!.message, /"false" is 70 %/);
  });

  it('zeros: more than 50 % of non-null numeric values', () => {
    assert.deepEqual(types(numericColumn({ zeros: 5 }), 10), []);
    assert.deepEqual(types(numericColumn({ zeros: 10, null_count: 1 }), 20), ['zeros'], '10 of 19 non-null values');
  });

  it('high cardinality: a string column, not unique, with more than 50 distinct values and more than half its values distinct', () => {
    assert.deepEqual(types(stringColumn({ unique_count: 51 }), 100), ['high_cardinality']);
    assert.deepEqual(types(stringColumn({ unique_count: 50 }), 100), []);
    assert.deepEqual(types(stringColumn({ unique_count: 60 }), 200), [], '30 % distinct');
    assert.deepEqual(types(stringColumn({ unique_count: 100 }), 100), ['unique'], 'unique, not high cardinality');
    assert.deepEqual(types(numericColumn({ unique_count: 90 }), 100), [], 'numbers are not categories');
  });

  it('an empty table has only the empty alert', () => {
    const alerts = tableAlerts({ row_count: 0, duplicate_primary_keys: 0, null_primary_keys: 0, columns: [stringColumn({ null_count: 0, unique_count: 0 })] }, ['id']);
    assert.deepEqual(alerts.map((a) => a.type), ['empty']);
  });

  it('duplicate and null primary keys are critical table alerts, listed before column alerts', () => {
    const alerts = tableAlerts({ row_count: 10, duplicate_primary_keys: 2, null_primary_keys: 1, columns: [stringColumn({ unique_count: 1 })] }, ['a', 'b']);
    assert.deepEqual(alerts.map((a) => [a.type, a.severity, a.column]), [['duplicate_primary_key', 'critical', undefined], ['null_primary_key', 'critical', undefined], ['constant', 'warning', 's']]);
    assert.match(alerts[0]!.message, /2 row\(s\) repeat a primary key \(a, b\)/);
    assert.deepEqual(tableAlerts({ row_count: 10, duplicate_primary_keys: null, null_primary_keys: null, columns: [] }, []), []);
  });
});
