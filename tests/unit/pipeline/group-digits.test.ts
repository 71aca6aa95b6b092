import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupDigits } from '../../../pipeline/projections/catalog/projection.ts';

test('groupDigits writes what toLocaleString(en-US) writes, for row counts and beyond', () => {
  const values = [0, 1, 9, 10, 99, 100, 999, 1_000, 9_999, 10_000, 123_456, 1_000_000, 5_000_000, 1_234_567_890, Number.MAX_SAFE_INTEGER, -1, -1_000, -987_654, 1.5, 1_234.5678, 2 ** 60];
  for (let n = 1; n < 1e15; n = n * 7 + 3) values.push(n);
  for (const n of values) assert.equal(groupDigits(n), n.toLocaleString('en-US'), String(n));
});
