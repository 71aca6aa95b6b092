import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdaConfig, TableConfig } from '../../../config/index.ts';
import type { AdaEvent, RecordedEvent } from '../../../events/index.ts';
import { evaluateHealth, healthProjection, missedRuns } from '../../../pipeline/projections/health/health.ts';
import type { HealthInputs, HealthState } from '../../../pipeline/projections/health/health.ts';
import type { TimerSpec } from '../../../pipeline/scheduler/timers.ts';
import { evolverOf } from '../../../pipeline/projection.ts';

let position = 0;
function rec(event: AdaEvent, at: string): RecordedEvent {
  return { ...event, position: ++position, id: `id-${position}`, at, source: 'test' } as RecordedEvent;
}

function fold(events: RecordedEvent[]): HealthState {
  return events.reduce(evolverOf(healthProjection), healthProjection.initialState());
}

const config = { tables: [{ name: 'orders' }, { name: 'customers' }] as TableConfig[] } as AdaConfig;
const specs: TimerSpec[] = [{ name: 'source:csv', cron: '0 6,12,18 * * *', tables: ['orders', 'customers'] }];

function inputs(now: string, extra: Partial<HealthInputs> = {}): HealthInputs {
  return { config, specs, now: new Date(now), timersActive: true, head: 10, projections: { parquet: 10 }, ...extra };
}

const started = (table: string, runId: string, at: string) => rec({ type: 'SyncStarted', v: 1, data: { runId, table, source: 'csv', strategy: 'full_refresh', trigger: 'timer' } }, at);
const succeeded = (table: string, runId: string, at: string) => rec({ type: 'SyncSucceeded', v: 1, data: { runId, table, rows: 1, cursor: null, durationMs: 1 } }, at);
const failed = (table: string, runId: string, at: string) => rec({ type: 'SyncFailed', v: 1, data: { runId, table, error: { code: 'CSV_INVALID', message: 'orders.csv line 3: bad' }, durationMs: 1 } }, at);
const fired = (at: string, scheduledAt: string) => rec({ type: 'TimerFired', v: 1, data: { timer: 'source:csv', tables: ['orders', 'customers'], scheduledAt, catchUp: false } }, at);

describe('health', () => {
  const ok = [
    fired('2026-01-01T06:00:01Z', '2026-01-01T06:00:00.000Z'),
    started('orders', 'o1', '2026-01-01T06:00:02Z'), succeeded('orders', 'o1', '2026-01-01T06:00:03Z'),
    started('customers', 'c1', '2026-01-01T06:00:04Z'), succeeded('customers', 'c1', '2026-01-01T06:00:05Z'),
  ];

  it('is healthy when every table synced on time', () => {
    const report = evaluateHealth(fold(ok), inputs('2026-01-01T07:00:00Z'));
    assert.equal(report.status, 'healthy');
    assert.deepEqual(report.reasons, []);
    assert.equal(report.checks.tables.orders!.freshness, 'fresh');
    assert.equal(report.checks.timers['source:csv']!.nextDueAt, '2026-01-01T12:00:00.000Z');
  });

  it('goes degraded when a sync fails, with the reason, and back when it succeeds again', () => {
    const broken = [...ok, fired('2026-01-01T12:00:01Z', '2026-01-01T12:00:00.000Z'), started('orders', 'o2', '2026-01-01T12:00:02Z'), failed('orders', 'o2', '2026-01-01T12:00:03Z')];
    const report = evaluateHealth(fold(broken), inputs('2026-01-01T12:30:00Z'));
    assert.equal(report.status, 'degraded');
    assert.match(report.reasons[0]!, /orders: last sync failed: orders\.csv line 3/);
    assert.deepEqual(report.checks.tables.orders!.lastError, { code: 'CSV_INVALID', message: 'orders.csv line 3: bad' });
    const fixed = [...broken, started('orders', 'o3', '2026-01-01T12:40:00Z'), succeeded('orders', 'o3', '2026-01-01T12:41:00Z')];
    assert.equal(evaluateHealth(fold(fixed), inputs('2026-01-01T12:45:00Z')).status, 'healthy');
  });

  it('is unhealthy when every table failed three times in a row, degraded before', () => {
    const once = [...ok, failed('orders', 'o2', '2026-01-01T12:00:03Z'), failed('customers', 'c2', '2026-01-01T12:00:04Z')];
    assert.equal(evaluateHealth(fold(once), inputs('2026-01-01T12:05:00Z')).status, 'degraded');
    const thrice = [...once, failed('orders', 'o3', '2026-01-01T12:01:03Z'), failed('customers', 'c3', '2026-01-01T12:01:04Z'), failed('orders', 'o4', '2026-01-01T12:02:03Z'), failed('customers', 'c4', '2026-01-01T12:02:04Z')];
    const report = evaluateHealth(fold(thrice), inputs('2026-01-01T12:05:00Z'));
    assert.equal(report.status, 'unhealthy');
    assert.ok(report.reasons.some((r) => /every table failed its last 3/.test(r)));
  });

  it('flags an overdue timer and tables overdue after two missed runs', () => {
    // Last fired at 06:00; at 18:30 the 12:00 and 18:00 runs were missed.
    const report = evaluateHealth(fold(ok), inputs('2026-01-01T18:30:00Z'));
    assert.equal(report.status, 'degraded');
    assert.equal(report.checks.timers['source:csv']!.overdue, true);
    assert.equal(report.checks.tables.orders!.freshness, 'overdue');
    assert.ok(report.reasons.some((r) => /timer source:csv: the run due at 2026-01-01T18:00:00.000Z has not fired/.test(r)));
    // Without timers running (ada health from a shell with no serve), timers are not judged.
    assert.equal(evaluateHealth(fold(ok), inputs('2026-01-01T18:30:00Z', { timersActive: false })).checks.timers['source:csv']!.overdue, false);
    // One missed run is not overdue yet.
    assert.equal(evaluateHealth(fold(ok), inputs('2026-01-01T12:05:00Z')).checks.tables.orders!.freshness, 'fresh');
  });

  it('reports never-synced tables, projection lag, a full disk and load', () => {
    const report = evaluateHealth(fold([]), inputs('2026-01-01T07:00:00Z', {
      head: 5000, projections: { parquet: 10, catalog: 4990 },
      disk: { usedPercent: 95, freeBytes: 1, totalBytes: 20 }, load: { load1: 9, cpus: 2 },
    }));
    assert.equal(report.status, 'degraded');
    assert.equal(report.checks.tables.orders!.freshness, 'never_synced');
    assert.equal(report.checks.projections.parquet!.lag, 4990);
    assert.equal(report.checks.projections.catalog!.status, 'healthy');
    assert.ok(report.reasons.some((r) => /projection parquet is 4990 events behind/.test(r)));
    assert.ok(report.reasons.some((r) => /disk .* 95\.0 % full/.test(r)));
    assert.ok(report.reasons.some((r) => /load is 4\.50 per core/.test(r)));
    const critical = evaluateHealth(fold(ok), inputs('2026-01-01T07:00:00Z', { disk: { usedPercent: 99, freeBytes: 1, totalBytes: 100 } }));
    assert.equal(critical.status, 'unhealthy');
  });

  it('includes connector checks only as given', () => {
    const report = evaluateHealth(fold(ok), inputs('2026-01-01T07:00:00Z', { connectorChecks: [{ name: 'jira', status: 'degraded', message: 'newest issue is 3 days old' }] }));
    assert.equal(report.status, 'degraded');
    assert.deepEqual(report.reasons, ['jira: newest issue is 3 days old']);
    assert.deepEqual(evaluateHealth(fold(ok), inputs('2026-01-01T07:00:00Z')).checks.connectors, []);
  });

  it('counts missed runs', () => {
    assert.equal(missedRuns('0 * * * *', new Date('2026-01-01T00:30:00Z'), new Date('2026-01-01T03:10:00Z')), 3);
    assert.equal(missedRuns('0 * * * *', new Date('2026-01-01T00:30:00Z'), new Date('2026-01-03T00:00:00Z')), 10);
  });
});
