import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateCron } from '../../../config/index.ts';
import { nextFiring } from '../../../pipeline/index.ts';

const ACCEPTED = [
  '* * * * *', '0 5,13,21 * * *', '*/15 * * * *', '0 0 1-15/2 1-12 1-5', '30 23 31 12 7', ' 0  6 * * 0 ',
  '0 9 * JAN-MAR MON-FRI', '0 0 * * thu', '@daily', '@hourly', '@weekly', '@monthly', '@yearly',
];

describe('validateCron (through cron-parser, as the scheduler)', () => {
  it('accepts five fields of numbers, names, *, ranges, steps and lists, and the time macros', () => {
    for (const expr of ACCEPTED) assert.equal(validateCron(expr), undefined, expr);
  });

  it('accepts exactly what the scheduler can fire: every accepted schedule has a next firing', () => {
    const after = new Date('2026-03-01T00:00:00Z');
    for (const expr of ACCEPTED) assert.ok(nextFiring(expr.trim(), after) > after, expr);
    assert.equal(nextFiring('@daily', after).toISOString(), '2026-03-02T00:00:00.000Z');
    assert.equal(nextFiring('0 9 * JAN-MAR MON-FRI', after).toISOString(), '2026-03-02T09:00:00.000Z');
  });

  it('rejects the wrong number of fields, seconds included', () => {
    assert.match(validateCron('0 5 * *')!, /5 fields.*found 4/);
    assert.match(validateCron('0 0 * * * *')!, /found 6/);
    assert.match(validateCron('0 0 5 * * * *')!, /found 7/);
    assert.match(validateCron('')!, /found 0/);
  });

  it('rejects values out of range, backwards ranges, zero steps, impossible dates, H and unknown macros', () => {
    assert.match(validateCron('60 * * * *')!, /0-59/);
    assert.match(validateCron('* 24 * * *')!, /0-23/);
    assert.match(validateCron('* * 0 * *')!, /1-31/);
    assert.match(validateCron('* * * 13 *')!, /1-12/);
    assert.match(validateCron('* * * * 8')!, /0-7/);
    assert.match(validateCron('* * * * funday')!, /not valid/);
    assert.match(validateCron('5-1 * * * *')!, /not valid/);
    assert.match(validateCron('*/0 * * * *')!, /not valid/);
    assert.match(validateCron('* * 31 2 *')!, /not valid/);
    assert.match(validateCron('H * * * *')!, /H \(hashed/);
    assert.match(validateCron('@reboot')!, /macro/);
  });
});
