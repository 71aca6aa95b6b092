import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSafePathSegment, unsafePathSegmentReason } from '../../../config/index.ts';

describe('unsafePathSegmentReason', () => {
  it('accepts ordinary names, including dots inside', () => {
    for (const name of ['orders', 'in.c-shop', 'Sales 2024', 'ä_ø']) assert.equal(isSafePathSegment(name), true, name);
  });

  it('refuses empty, relative, hidden, separated, NUL and control-character names', () => {
    assert.match(unsafePathSegmentReason('')!, /empty/);
    assert.match(unsafePathSegmentReason('..')!, /relative/);
    assert.match(unsafePathSegmentReason('.')!, /relative/);
    assert.match(unsafePathSegmentReason('../etc')!, /separator/);
    assert.match(unsafePathSegmentReason('a\\b')!, /separator/);
    assert.match(unsafePathSegmentReason('.hidden')!, /dot/);
    assert.match(unsafePathSegmentReason('a\0b')!, /NUL/);
    assert.match(unsafePathSegmentReason('a\nb')!, /control/);
  });
});
