/**
 * Jira webhooks at a steady rate: signed deliveries for issues over 24 created months, posted at 200/s to the
 * webhook route while the fetch reactor and the monthly projection run. Figures: every delivery recorded once,
 * every issue in the `issues` table once, p99 webhook answer latency (as the sender times it, and on the server: from
 * the request's arrival to its response, and the delivery's append until durable), the sender's event-loop delay
 * (an answer that came while it was held up was timed late), p99 delivery → `JiraIssueChanged` (fetched)
 * and → `TablePublished`, the event loop's delay (p99 and max), peak RSS
 * (of this benchmark alone: the peak is reset at its start).
 *
 * The fake Jira and the webhook sender run in two child processes, as they are other machines in production: the
 * measured process is the server's alone (its event loop, its CPU), and the sender's clock is not held up by
 * either (before, the sender also served Jira's fetches, and its loop delay was timed into the answers).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { lastValueFrom, toArray } from 'rxjs';
import { BlobStore, EventLog } from '../events/index.ts';
import { jiraConnector } from '../connectors/jira/index.ts';
import { FakeJira } from '../tests/fixtures/jira/fake-jira.ts';
import { delivery, httpRequest, WebhookSender } from '../tests/fixtures/jira/webhook-sender.ts';
import { readParquet } from '../tests/helpers/parquet.ts';
import { cpuMsOf, peakRssMb, report, resetPeakRss, round, scratch } from './util.ts';
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

/** Messages of the sender child. */
type ChildMessage =
  | { type: 'ready'; url: string; email: string; token: string; admin: string }
  | { type: 'sender-ready' }
  | { type: 'done'; answers: number[]; sentAt: Record<string, number>; sendSeconds: number; failed: string[]; loopP99Ms: number };

/** Wall-clock milliseconds with sub-millisecond precision, comparable between the two processes. */
const now = (): number => performance.timeOrigin + performance.now();

/** CPU time of this process's main thread (the event loop), in ms (Linux: /proc; NaN elsewhere). */
function mainThreadCpuMs(): number {
  try {
    return cpuMsOf(process.pid, process.pid);
  } catch {
    return Number.NaN;
  }
}

/** Milliseconds of a Jira time (`2024-01-31T10:00:00.000+0000`: an offset without a colon). */
function jiraTime(text: string | undefined): number {
  return Date.parse((text ?? '').replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

const month = (i: number): string => `${2023 + Math.floor((i % 24) / 12)}-${String(1 + (i % 12)).padStart(2, '0')}`;

function nextMessage(child: ChildProcess): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`a child process of the benchmark exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as ChildMessage);
    });
  });
}

/** Runs the benchmark. */
export async function run(): Promise<Figures> {
  // The peak of this benchmark: `npm run bench` runs event-log and fanout before it in the same process, whose
  // memory the process may still hold (the peak starts there: `rss_at_start_mb`).
  resetPeakRss();
  const rssAtStartMb = process.memoryUsage().rss / 2 ** 20;
  const dataDir = await scratch('jira');
  // Three processes, as in production Jira and its webhook dispatcher are other machines: the fake Jira, the sender
  // (which only signs, sends and times: an answer that came while its loop served Jira's fetches was timed late by
  // as much), and this one, the server.
  const childOf = (role: string): ChildProcess => spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const jira = childOf('--fake-jira');
  const child = childOf('--sender');
  try {
    const [ready, senderReady] = await Promise.all([nextMessage(jira), nextMessage(child)]);
    if (ready.type !== 'ready' || senderReady.type !== 'sender-ready') throw new Error('the fake Jira or the sender did not start');
    const log = await EventLog.open(path.join(dataDir, 'events'));
    const blobs = await BlobStore.create(path.join(dataDir, 'blobs'));
    // Where an answer's time goes on the server: from the request's arrival to its response written, and the
    // delivery's append until durable (the group commit's durable write, and the wait for the batch before).
    const serverMs: number[] = [];
    const appendMs: number[] = [];
    const append = log.append.bind(log);
    log.append = (event) => {
      if (event.type !== 'JiraWebhookReceived') return append(event);
      const started = performance.now();
      const appended = append(event);
      appended.then(() => appendMs.push(performance.now() - started), () => undefined);
      return appended;
    };
    // As `ada serve` runs Jira: the route on this thread, the reactor and the projection on a thread of their own.
    const runtime = await jiraConnector.startThread({
      settings: { baseUrl: ready.url, email: ready.email, apiToken: ready.token, webhookSecret: SECRET, slaFields: [], attachmentMaxBytes: 50 << 20, consistencyMaxBackfill: 50, consistencyJql: 'x', deepJql: 'x' },
      log, blobs, dataDir, warn: () => undefined,
    });
    const app = Fastify();
    const arrived = new WeakMap<object, number>();
    app.addHook('onRequest', async (req) => void arrived.set(req, performance.now()));
    app.addHook('onResponse', async (req) => void serverMs.push(performance.now() - (arrived.get(req) ?? performance.now())));
    await app.register(runtime.routes);
    const webhookUrl = `${await app.listen({ port: 0, host: '127.0.0.1' })}/webhooks/jira`;
    const firstPosition = log.head + 1;
    const done = nextMessage(child);
    // How long the server's event loop was held up: a webhook answer due meanwhile waited as long.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const cpuBefore = process.cpuUsage();
    const mainBefore = mainThreadCpuMs();
    child.send({ type: 'send', url: webhookUrl, admin: ready.admin });
    const result = await done;
    if (result.type !== 'done') throw new Error('unexpected message from the sender process');
    if (result.failed.length) throw new Error(`${result.failed.length} deliveries failed, first: ${result.failed[0]}`);
    for (let i = 0; i < 50; i++) {
      const at = await runtime.pump();
      if (at.reactor >= log.head && at.projection >= log.head) break;
    }
    const cpu = process.cpuUsage(cpuBefore);
    const mainCpuMs = mainThreadCpuMs() - mainBefore;
    loopDelay.disable();
    // When each delivery's issue was fetched and published, from the times the log recorded (read after the run, so
    // the measuring adds no parsing to the server's loop while it answers). A delivery is fetched once a
    // JiraIssueChanged of its issue at least as new as the version it announces is recorded (no earlier than the
    // delivery itself: a fetch for the delivery before may already have seen it, and then this one's fetch records
    // nothing new), and published by the first TablePublished of `issues` after that.
    const pending = new Map<string, Array<{ id: string; updated: number }>>();
    const newest = new Map<string, number>();
    const waitingPublish: string[] = [];
    const publishedAt = new Map<string, number>();
    const fetchedAt = new Map<string, number>();
    let received = 0;
    for (const e of await lastValueFrom(log.read$(firstPosition, { types: ['JiraWebhookReceived', 'JiraIssueChanged', 'TablePublished'] }).pipe(toArray()))) {
      const at = Date.parse(e.at);
      if (e.type === 'JiraWebhookReceived') {
        received++;
        const key = e.data.issueKey;
        if (!key) continue;
        const updated = jiraTime((e.data.body.issue as { fields?: { updated?: string } } | undefined)?.fields?.updated);
        if ((newest.get(key) ?? -Infinity) >= updated) {
          fetchedAt.set(e.data.webhookId, at);
          waitingPublish.push(e.data.webhookId);
        } else {
          pending.set(key, [...(pending.get(key) ?? []), { id: e.data.webhookId, updated }]);
        }
      } else if (e.type === 'JiraIssueChanged') {
        const updated = jiraTime(e.data.updated);
        newest.set(e.data.issueKey, Math.max(newest.get(e.data.issueKey) ?? -Infinity, updated));
        const waiting = pending.get(e.data.issueKey) ?? [];
        for (const d of waiting.filter((w) => w.updated <= updated)) {
          fetchedAt.set(d.id, at);
          waitingPublish.push(d.id);
        }
        pending.set(e.data.issueKey, waiting.filter((w) => w.updated > updated));
      } else if (e.type === 'TablePublished' && e.data.table === 'issues') {
        for (const id of waitingPublish.splice(0)) publishedAt.set(id, at);
      }
    }
    const rows = await readParquet(path.join(dataDir, 'parquet', 'jira', 'issues', '*.parquet'));
    const unique = new Set(rows.map((r) => r.issue_key)).size;
    const since = (at: Map<string, number>): number[] => [...at].flatMap(([id, t]) => (result.sentAt[id] !== undefined ? [t - result.sentAt[id]!] : []));
    const toPublish = since(publishedAt);
    await app.close();
    await runtime.stop();
    await log.close();
    return [
      ['jira.deliveries', DELIVERIES],
      ['jira.issues', ISSUES],
      ['jira.send_rate_per_s', round(DELIVERIES / result.sendSeconds)],
      ['jira.lost_or_duplicated', Math.abs(received - DELIVERIES) + Math.abs(rows.length - ISSUES) + (rows.length - unique) + (DELIVERIES - toPublish.length)],
      ['jira.p99_webhook_ms', round(p99(result.answers))],
      ['jira.p99_webhook_server_ms', round(p99(serverMs))],
      ['jira.sender_p99_event_loop_delay_ms', round(result.loopP99Ms)],
      ['jira.p99_webhook_append_ms', round(p99(appendMs))],
      ['jira.p99_log_commit_ms', round(log.commitTimes().p99Ms)],
      ['jira.log_commits', log.commitTimes().commits],
      ['jira.p99_delivery_to_fetched_ms', round(p99(since(fetchedAt)))],
      ['jira.p99_delivery_to_published_ms', round(p99(toPublish))],
      ['jira.p99_event_loop_delay_ms', round(loopDelay.percentile(99) / 1e6)],
      ['jira.max_event_loop_delay_ms', round(loopDelay.max / 1e6)],
      ['jira.server_cpu_ms_per_delivery', round((cpu.user + cpu.system) / 1000 / DELIVERIES)],
      ['jira.main_thread_cpu_ms_per_delivery', Number.isNaN(mainCpuMs) ? 'unknown (no /proc)' : round(mainCpuMs / DELIVERIES)],
      ['jira.peak_rss_mb', peakRssMb()],
      ['jira.rss_at_start_mb', Math.round(rssAtStartMb)],
    ];
  } finally {
    child.kill();
    jira.kill();
  }
}

/** The version of an issue that delivery `i` announces: created with the issue, then one update per round. */
function issueVersion(i: number): { key: string; opts: Parameters<FakeJira['put']>[1] } {
  const created = `${month(i % ISSUES)}-10T10:00:00.000+0000`;
  const updated = i < ISSUES ? `${month(i)}-11T10:00:00.000+0000` : new Date(Date.parse(`${month(i % ISSUES)}-11T10:00:00Z`) + i * 1000).toISOString().replace('Z', '+0000');
  return { key: `BEN-${(i % ISSUES) + 1}`, opts: { created, updated, comments: 3, histories: 2 } };
}

/**
 * The fake Jira child: every issue, and a small admin server the sender asks, before it sends delivery `i`, to
 * move the issue to the version that delivery announces; it answers with the webhook's issue body.
 */
async function fakeJira(): Promise<void> {
  const fake = await new FakeJira().start();
  for (let i = 0; i < ISSUES; i++) fake.put(issueVersion(i).key, issueVersion(i).opts);
  const admin = createServer((req, res) => {
    const i = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('i'));
    const { key, opts } = issueVersion(i);
    if (i >= ISSUES) fake.put(key, opts);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(fake.webhookIssue(key)));
  });
  await new Promise<void>((resolve) => admin.listen(0, '127.0.0.1', resolve));
  const adminUrl = `http://127.0.0.1:${(admin.address() as AddressInfo).port}`;
  process.send!({ type: 'ready', url: fake.url, email: fake.email, token: fake.token, admin: adminUrl } satisfies ChildMessage);
  // Serves until the parent kills it.
}

/** The sender child: the deliveries at the rate once the parent says where, each issue moved to its version first. */
async function sender(): Promise<void> {
  const { url, admin } = await new Promise<{ url: string; admin: string }>((resolve) => {
    process.once('message', (m) => resolve(m as { url: string; admin: string }));
    process.send!({ type: 'sender-ready' } satisfies ChildMessage);
  });
  // node:http over kept-alive connections: `fetch` took several times the CPU per request, on two cores beside the server.
  const agent = new Agent({ keepAlive: true });
  const client = new WebhookSender(url, SECRET, agent);
  const answers: number[] = [];
  const sentAt: Record<string, number> = {};
  const failed: string[] = [];
  const inflight: Array<Promise<void>> = [];
  // The sender's own event loop: an answer that came while it was held up was timed late by as much.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const started = performance.now();
  for (let i = 0; i < DELIVERIES; i++) {
    const wait = started + (i * 1000) / RATE_PER_S - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // The issue's new version is in Jira before the delivery announcing it leaves (not timed); the loop goes on at
    // the rate meanwhile (the same issue comes round again only 2,000 deliveries later).
    inflight.push((async () => {
      const issue = JSON.parse((await httpRequest(`${admin}/?i=${i}`, { method: 'GET', agent })).body) as Record<string, unknown>;
      const d = delivery(i < ISSUES ? 'jira:issue_created' : 'jira:issue_updated', issue, Date.now(), randomUUID());
      sentAt[d.id] = now();
      const r = await client.send(d);
      if (r.status === 200) answers.push(r.ms);
      else failed.push(`${d.id}: ${r.status} ${r.body}`);
    })().catch((err: unknown) => void failed.push(`delivery ${i}: ${(err as Error).message}`)));
  }
  await Promise.all(inflight);
  const sendSeconds = (performance.now() - started) / 1000;
  loopDelay.disable();
  process.send!({ type: 'done', answers, sentAt, sendSeconds, failed, loopP99Ms: loopDelay.percentile(99) / 1e6 } satisfies ChildMessage);
  // The parent still fetches issues while it catches up; it kills this process when it is done.
}

if (process.argv[2] === '--sender') {
  await sender();
} else if (process.argv[2] === '--fake-jira') {
  await fakeJira();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
