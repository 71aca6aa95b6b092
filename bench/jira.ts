/**
 * Jira webhooks at a steady rate: signed deliveries for issues over 24 created months, posted at 200/s to the
 * webhook route while the fetch reactor and the monthly projection run. Figures: every delivery recorded once,
 * every issue in the `issues` table once, p99 webhook answer latency, p99 delivery → `TablePublished`, peak RSS.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { filter } from 'rxjs';
import { BlobStore, CheckpointStore, EventLog } from '../events/index.ts';
import { ProjectionRunner } from '../pipeline/index.ts';
import { jiraConnector } from '../connectors/jira/index.ts';
import { FakeJira } from '../tests/fixtures/jira/fake-jira.ts';
import { delivery, WebhookSender } from '../tests/fixtures/jira/webhook-sender.ts';
import { readParquet } from '../tests/helpers/parquet.ts';
import { peakRssMb, report, round, scratch } from './util.ts';
import type { Figures } from './util.ts';
import type { Goals } from './run.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const DELIVERIES = Math.round(10_000 * SCALE);
const ISSUES = Math.max(24, Math.round(2_000 * SCALE));
const RATE_PER_S = 200;
const SECRET = 'bench-secret';

/** Goals of the issue. */
export const goals: Goals = {
  'jira.p99_webhook_ms': { max: 20 },
  'jira.p99_delivery_to_published_ms': { max: 2000 },
  'jira.lost_or_duplicated': { max: 0 },
};

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

/** Runs the benchmark. */
export async function run(): Promise<Figures> {
  const dataDir = await scratch('jira');
  const fake = await new FakeJira().start();
  const log = await EventLog.open(path.join(dataDir, 'events'));
  const blobs = await BlobStore.create(path.join(dataDir, 'blobs'));
  const runner = new ProjectionRunner(log, new CheckpointStore(path.join(dataDir, 'metadata', 'checkpoints')), dataDir);
  const month = (i: number): string => `${2023 + Math.floor((i % 24) / 12)}-${String(1 + (i % 12)).padStart(2, '0')}`;
  for (let i = 0; i < ISSUES; i++) fake.put(`BEN-${i + 1}`, { created: `${month(i)}-10T10:00:00.000+0000`, updated: `${month(i)}-11T10:00:00.000+0000`, comments: 3, histories: 2 });
  const runtime = await jiraConnector.start({
    settings: { baseUrl: fake.url, email: fake.email, apiToken: fake.token, webhookSecret: SECRET, slaFields: [], attachmentMaxBytes: 50 << 20, consistencyMaxBackfill: 50, consistencyJql: 'x', deepJql: 'x' },
    log, blobs, runner, dataDir, warn: () => undefined,
  });
  const app = Fastify();
  await app.register(runtime.routes);
  const sender = new WebhookSender(`${await app.listen({ port: 0, host: '127.0.0.1' })}/webhooks/jira`, SECRET);
  // Latency to publish: a delivery is published when a TablePublished of `issues` follows the JiraIssueChanged of its issue.
  const sentAt = new Map<string, number>();
  const waitingFetch = new Map<string, number[]>();
  const waitingPublish: number[] = [];
  const toPublish: number[] = [];
  const sub = log.follow$(log.head + 1).pipe(filter((e) => ['JiraWebhookReceived', 'JiraIssueChanged', 'TablePublished'].includes(e.type))).subscribe((e) => {
    if (e.type === 'JiraWebhookReceived' && e.data.issueKey) waitingFetch.set(e.data.issueKey, [...(waitingFetch.get(e.data.issueKey) ?? []), sentAt.get(e.data.webhookId) ?? performance.now()]);
    else if (e.type === 'JiraIssueChanged') { waitingPublish.push(...(waitingFetch.get(e.data.issueKey) ?? [])); waitingFetch.delete(e.data.issueKey); }
    else if (e.type === 'TablePublished' && e.data.table === 'issues') { const now = performance.now(); for (const t of waitingPublish.splice(0)) toPublish.push(now - t); }
  });
  const answers: number[] = [];
  const started = performance.now();
  const inflight: Array<Promise<void>> = [];
  for (let i = 0; i < DELIVERIES; i++) {
    const due = started + (i * 1000) / RATE_PER_S;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const key = `BEN-${(i % ISSUES) + 1}`;
    if (i >= ISSUES) fake.put(key, { created: `${month(i % ISSUES)}-10T10:00:00.000+0000`, updated: new Date(Date.parse(`${month(i % ISSUES)}-11T10:00:00Z`) + i * 1000).toISOString().replace('Z', '+0000'), comments: 3, histories: 2 });
    const d = delivery(i < ISSUES ? 'jira:issue_created' : 'jira:issue_updated', fake.webhookIssue(key), Date.now(), randomUUID());
    sentAt.set(d.id, performance.now());
    inflight.push(sender.send(d).then((r) => { if (r.status !== 200) throw new Error(`webhook answered ${r.status}`); answers.push(r.ms); }));
  }
  await Promise.all(inflight);
  const sendSeconds = (performance.now() - started) / 1000;
  for (let i = 0; i < 50 && (runner.positionOf('jira') < log.head || runner.positionOf('jira-fetch') < log.head); i++) await runtime.pump();
  const received = await new Promise<number>((resolve) => { let n = 0; log.read$(1).subscribe({ next: (e) => { if (e.type === 'JiraWebhookReceived') n++; }, complete: () => resolve(n) }); });
  const rows = await readParquet(path.join(dataDir, 'parquet', 'jira', 'issues', '*.parquet'));
  const unique = new Set(rows.map((r) => r.issue_key)).size;
  sub.unsubscribe();
  await app.close();
  await runtime.stop();
  await log.close();
  await fake.stop();
  return [
    ['jira.deliveries', DELIVERIES],
    ['jira.issues', ISSUES],
    ['jira.send_rate_per_s', round(DELIVERIES / sendSeconds)],
    ['jira.lost_or_duplicated', Math.abs(received - DELIVERIES) + Math.abs(rows.length - ISSUES) + (rows.length - unique)],
    ['jira.p99_webhook_ms', round(p99(answers))],
    ['jira.p99_delivery_to_published_ms', round(p99(toPublish))],
    ['jira.peak_rss_mb', peakRssMb()],
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
