import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateCron } from '../../../config/index.ts';

describe('validateCron', () => {
  it('accepts five fields of numbers, *, ranges, steps and lists', () => {
    for (const expr of ['* * * * *', '0 5,13,21 * * *', '*/15 * * * *', '0 0 1-15/2 1-12 1-5', '30 23 31 12 7', ' 0  6 * * 0 ']) {
      assert.equal(validateCron(expr), undefined, expr);
    }
  });

  it('rejects the wrong number of fields', () => {
    assert.match(validateCron('0 5 * *')!, /5 fields.*found 4/);
    assert.match(validateCron('0 0 5 * * * *')!, /found 7/);
    assert.match(validateCron('')!, /found 0/);
  });

  it('rejects values out of range, bad syntax, backwards ranges and zero steps', () => {
    assert.match(validateCron('60 * * * *')!, /minute.*0-59/);
    assert.match(validateCron('* 24 * * *')!, /hour/);
    assert.match(validateCron('* * 0 * *')!, /day of month/);
    assert.match(validateCron('* * * 13 *')!, /month/);
    assert.match(validateCron('* * * * 8')!, /day of week/);
    assert.match(validateCron('* * * * mon')!, /not valid/);
    assert.match(validateCron('@daily')!, /5 fields/);
    assert.match(validateCron('5-1 * * * *')!, /backwards/);
    assert.match(validateCron('*/0 * * * *')!, /step/);
  });
});
