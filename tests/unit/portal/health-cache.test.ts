import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachedHealth } from '../../../portal/data/health-cache.ts';
import type { HealthReport } from '../../../pipeline/index.ts';

const report = (n: number): HealthReport => ({ status: 'healthy', reasons: [], problems: [], checkedAt: `2026-12-06T00:00:0${n}.000Z` } as unknown as HealthReport);

describe('cachedHealth', () => {
  it('offers a report without waiting only while it may be reused: the same version, within the reuse time', async () => {
    let version = 1;
    let evaluations = 0;
    const health = cachedHealth(async () => report(++evaluations), () => version, 3_600_000);
    assert.equal(health.now(), undefined, 'nothing evaluated yet');
    const first = await health();
    assert.equal(health.now(), first);
    assert.equal(await health(), first);
    assert.equal(evaluations, 1);
    version = 2;
    assert.equal(health.now(), undefined, 'the log head moved: the report may hide an event');
    const second = await health();
    assert.notEqual(second, first);
    assert.equal(health.now(), second);
  });

  it('offers nothing without waiting once the reuse time is over', async () => {
    const health = cachedHealth(async () => report(1), () => 1, 0);
    await health();
    assert.equal(health.now(), undefined);
  });
});
