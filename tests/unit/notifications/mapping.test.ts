/** The pure event → notification mapping and the audience rule (no I/O; kept beside the gateway tests). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { upcast } from '../../../events/index.ts';
import type { AdaEvent, RecordedEvent } from '../../../events/index.ts';
import { datasetPrivacy, tablePrivacy, toNotification, visibleTo } from '../../../pipeline/projections/notifications/index.ts';
import { TABLES } from '../../integration/notifications/harness.ts';

const config = { tables: TABLES };
let position = 0;
const recorded = (e: AdaEvent): RecordedEvent => ({ ...e, id: `id-${++position}`, position, at: '2026-11-26T10:00:00.000Z', source: 'test' }) as RecordedEvent;
const err = { code: 'KEBOOLA_HTTP', message: 'export job failed: 503' };

test('TablePublished, SyncFailed, TableProfiled, TableProfileFailed map to table notifications', () => {
  const pub = recorded({ type: 'TablePublished', v: 1, data: { runId: 'r', table: 'orders', folder: 'shop', strategy: 'full_refresh', files: [], rows: 12_345, bytes: 1, schema: [], contentHash: 'h' } });
  assert.deepEqual(toNotification(pub, config), {
    type: 'notification', id: pub.id, position: pub.position, timestamp: '2026-11-26T10:00:00.000Z',
    level: 'success', table: 'orders', title: 'Table orders updated', message: 'Table orders updated: 12,345 rows',
  });
  const part = recorded({ type: 'TablePublished', v: 1, data: { runId: 'r', table: 'orders', folder: 'shop', strategy: 'partitioned', files: [], rows: 1, bytes: 1, schema: [], contentHash: 'h', touchedPartitions: ['2026_01', '2026_02'] } });
  assert.equal(toNotification(part, config)?.message, 'Table orders updated: 1 row (2 partitions changed)');

  const failed = toNotification(recorded({ type: 'SyncFailed', v: 1, data: { runId: 'r', table: 'orders', error: err, durationMs: 5 } }), config);
  assert.equal(failed?.level, 'error');
  assert.equal(failed?.message, 'Table orders could not be synced: export job failed: 503 (KEBOOLA_HTTP); the published data stays as it was');

  const profiled = toNotification(recorded({ type: 'TableProfiled', v: 1, data: { table: 'orders', contentHash: 'h', rows: 10, columns: 3, sampled: false, alerts: 2, durationMs: 1 } }), config);
  assert.deepEqual([profiled?.level, profiled?.message], ['warning', 'Table orders profiled: 10 rows, 3 columns, 2 alerts']);
  const clean = toNotification(recorded({ type: 'TableProfiled', v: 1, data: { table: 'orders', contentHash: 'h', rows: 1, columns: 1, sampled: true, alerts: 0, durationMs: 1 } }), config);
  assert.deepEqual([clean?.level, clean?.message], ['info', 'Table orders profiled (sampled): 1 row, 1 column, no alerts']);

  const pf = toNotification(recorded({ type: 'TableProfileFailed', v: 1, data: { table: 'orders', contentHash: 'h', error: err } }), config);
  assert.equal(pf?.level, 'warning');
  assert.match(pf?.message ?? '', /previous profile is kept and marked stale/);
});

test('long error messages are clipped; events nobody is told about map to undefined', () => {
  const long = toNotification(recorded({ type: 'SyncFailed', v: 1, data: { runId: 'r', table: 'orders', error: { code: 'E', message: 'x'.repeat(10_000) }, durationMs: 1 } }), config);
  assert.equal(long?.message.length, 2_000);
  assert.equal(toNotification(recorded({ type: 'SyncStarted', v: 1, data: { runId: 'r', table: 'orders', source: 'csv', strategy: 'full_refresh', trigger: 'manual' } }), config), undefined);
  assert.equal(toNotification(recorded({ type: 'TokenIssued', v: 1, data: { name: 'ann', tokenId: 't', hash: 'h' } }), config), undefined);
});

test('HealthChanged: level by status; problems about a private table (by their table field) are counted, not quoted', () => {
  const problems = [
    { code: 'TABLE_SYNC_FAILED', table: 'salaries', message: 'table salaries: last sync failed: payroll down' },
    { code: 'TABLE_NEVER_SYNCED', table: 'orders', message: 'table orders: never synced (salaries named in text only)' },
    { code: 'DISK_FULL', message: 'disk 95 % full' },
    { code: 'TABLE_OVERDUE', table: 'not-configured', message: 'table not-configured: overdue' },
  ];
  const degraded = toNotification(recorded({ type: 'HealthChanged', v: 2, data: { status: 'unhealthy', previous: 'degraded', reasons: problems.map((p) => p.message), problems } }), config);
  assert.equal(degraded?.level, 'error');
  assert.equal(degraded?.table, undefined);
  assert.equal(degraded?.message, 'The broker is unhealthy (was degraded): table orders: never synced (salaries named in text only); disk 95 % full; 2 problems with restricted tables.');
  const healthy = toNotification(recorded({ type: 'HealthChanged', v: 2, data: { status: 'healthy', previous: 'degraded', reasons: [], problems: [] } }), config);
  assert.deepEqual([healthy?.level, healthy?.title, healthy?.message], ['success', 'Broker healthy', 'All checks pass again (was degraded).']);
});

test('HealthChanged v1 (reasons as text only) is upcast; its reasons may name any table, so they are counted', () => {
  const v1 = upcast({ type: 'HealthChanged', v: 1, data: { status: 'degraded', previous: 'healthy', reasons: ['table -salaries-: last sync failed', 'disk 95 % full'] } });
  assert.equal(v1.v, 2);
  const n = toNotification(recorded(v1 as never), config);
  assert.equal(n?.message, 'The broker is degraded (was healthy): 2 problems with restricted tables.');
});

test('NotificationDispatched keeps level, to and table; the id is the event id', () => {
  const e = recorded({ type: 'NotificationDispatched', v: 1, data: { id: 'data-id', title: 'T', message: 'M', level: 'warning', to: 'ann', table: 'orders', by: 'root' } });
  const n = toNotification(e, config);
  assert.deepEqual(n, { type: 'notification', id: e.id, position: e.position, timestamp: e.at, level: 'warning', title: 'T', message: 'M', to: 'ann', table: 'orders' });
});

test('visibleTo: private tables for privileged and admin only; addressed ones for their user only', () => {
  const isPrivate = tablePrivacy(config);
  const ann = { name: 'ann', role: 'analyst' } as const;
  const pat = { name: 'pat', role: 'privileged' } as const;
  const root = { name: 'root', role: 'admin' } as const;
  assert.deepEqual([ann, pat, root].map((p) => visibleTo({ table: 'salaries' }, p, isPrivate)), [false, true, true]);
  assert.deepEqual([ann, pat, root].map((p) => visibleTo({ table: 'orders' }, p, isPrivate)), [true, true, true]);
  assert.deepEqual([ann, pat, root].map((p) => visibleTo({ to: 'ann' }, p, isPrivate)), [true, false, false]);
  assert.deepEqual([ann, pat, root].map((p) => visibleTo({}, p, isPrivate)), [true, true, true]);
  assert.equal(visibleTo({ to: 'ann', table: 'salaries' }, ann, isPrivate), false);
  // A table the configuration does not know is treated as private.
  assert.equal(visibleTo({ table: 'mystery' }, ann, isPrivate), false);
});

test('FilesPublished maps to a notification about its dataset that names neither folder nor files', () => {
  const sha = 'a'.repeat(64);
  const files = recorded({ type: 'FilesPublished', v: 1, data: { dataset: 'jira_attachments', folder: 'attachments/jira/ADA-1', files: [{ path: 'attachments/jira/ADA-1/701_report.pdf', bytes: 3, sha256: sha }, { path: 'attachments/jira/ADA-1/702_x.txt', bytes: 1, sha256: sha }] } });
  const n = toNotification(files, config);
  assert.deepEqual(n, {
    type: 'notification', id: files.id, position: files.position, timestamp: files.at,
    level: 'success', dataset: 'jira_attachments', title: 'Files of jira_attachments updated', message: 'Files of dataset jira_attachments updated: 2 files in one folder',
  });
  assert.doesNotMatch(JSON.stringify(n), /ADA-1|report/);
  const removed = toNotification(recorded({ type: 'FilesPublished', v: 1, data: { dataset: 'jira_attachments', folder: 'attachments/jira/ADA-1', files: [] } }), config);
  assert.equal(removed?.message, 'Files of dataset jira_attachments updated: a folder removed');
});

test('visibleTo: files of a private dataset (or one requiring a private one, or an unknown one) for privileged and admin only', () => {
  const withDatasets = { ...config, instance: { datasets: {
    jira: { requires: [] }, jira_attachments: { requires: ['jira'] },
    hr: { private: true, requires: [] }, hr_files: { requires: ['hr'] },
  } } };
  const isPrivate = tablePrivacy(withDatasets);
  const isPrivateDataset = datasetPrivacy(withDatasets);
  const ann = { name: 'ann', role: 'analyst' } as const;
  const pat = { name: 'pat', role: 'privileged' } as const;
  const root = { name: 'root', role: 'admin' } as const;
  const who = (dataset: string): boolean[] => [ann, pat, root].map((p) => visibleTo({ dataset }, p, isPrivate, isPrivateDataset));
  assert.deepEqual(who('jira_attachments'), [true, true, true]);
  assert.deepEqual(who('hr'), [false, true, true]);
  assert.deepEqual(who('hr_files'), [false, true, true]);
  assert.deepEqual(who('mystery'), [false, true, true]);
  // Without the configuration's datasets every dataset counts as private.
  assert.equal(visibleTo({ dataset: 'jira_attachments' }, ann, isPrivate, datasetPrivacy(config)), false);
  assert.equal(visibleTo({ dataset: 'jira_attachments' }, ann, isPrivate), false);
});
