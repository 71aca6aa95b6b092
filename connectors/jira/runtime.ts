/**
 * Jira running inside the broker: the reactor and projection driven live from the log, the timers, the
 * webhook route and the health checks, built from validated settings.
 */
import path from 'node:path';
import type { SchedulerLike } from 'rxjs';
import type { FastifyPluginAsync } from 'fastify';
import type { ProjectionRunner, ConnectorHealthCheck, TimerSpec } from '../../pipeline/index.ts';
import type { BlobStore, EventLog } from '../../events/index.ts';
import { JiraClient } from './client.ts';
import { checkConsistency } from './consistency.ts';
import { FieldCatalogue } from './fetch-issue.ts';
import { jiraFetchReactor } from './fetch-reactor.ts';
import type { IssueFetcher } from './fetch-reactor.ts';
import { backfill, searchIssues } from './backfill.ts';
import { jiraProjection } from './projection.ts';
import type { JiraProjectionState } from './projection.ts';
import type { JiraSettings } from './settings.ts';
import { JIRA_CRONS, jiraTimerNames, jiraTimerSpecs, startJiraTimers } from './timers.ts';
import type { JiraTimer, JiraTimerName } from './timers.ts';
import { sweepJiraTempFiles } from './sweep.ts';
import { jiraWebhookRoutes } from './webhook-route.ts';

/** Event types that wake the projection's loop (deliveries wake the reactor's). */
const PROJECTION_EVENTS = new Set(['JiraIssueChanged', 'JiraIssueDeleted']);
/**
 * Least time between two projection passes: each pass rewrites every touched month of six tables, so under a
 * burst of deliveries batching them keeps the disk free for the log's own fsyncs (webhook answers wait on them).
 */
const PROJECTION_MIN_INTERVAL_MS = 250;
/** Newest issue older than this makes health degraded (the original's freshness check). */
const FRESHNESS_MS = 48 * 3600_000;

/** What the runtime needs of the event log: appending, and hearing of each record made durable. */
export type JiraLog = Pick<EventLog, 'append' | 'recorded$'>;

/** What the runtime needs from the broker. */
export interface JiraHost {
  settings: JiraSettings;
  log: JiraLog;
  blobs?: BlobStore;
  runner: ProjectionRunner;
  dataDir: string;
  warn(message: string): void;
  /** Injected in tests: no wall-clock waits for retries or timers. */
  sleep?: (ms: number) => Promise<void>;
  scheduler?: SchedulerLike;
  /** Last firing of each timer (from the timers projection), to catch up a missed run. */
  lastFired?: ReadonlyMap<string, Date>;
}

/** The fetcher (clients, catalogue, blob store) of a host. */
export function issueFetcher(host: Omit<JiraHost, 'runner' | 'log'> & { append: IssueFetcher['append'] }): IssueFetcher {
  const { settings } = host;
  const client = new JiraClient({ baseUrl: settings.baseUrl, email: settings.email, apiToken: settings.apiToken, ...(host.sleep ? { sleep: host.sleep } : {}) });
  const slaClient = settings.slaEmail && settings.slaApiToken
    ? new JiraClient({ baseUrl: settings.baseUrl, email: settings.slaEmail, apiToken: settings.slaApiToken, ...(host.sleep ? { sleep: host.sleep } : {}) })
    : client;
  return {
    client, catalogue: new FieldCatalogue(client),
    ...(settings.slaFields.length ? { sla: { client: slaClient, fields: settings.slaFields } } : {}),
    ...(host.blobs ? { blobs: host.blobs } : {}),
    attachmentMaxBytes: settings.attachmentMaxBytes, dataDir: host.dataDir,
    append: host.append, warn: host.warn,
  };
}

/** A started Jira runtime. */
export interface JiraRuntime {
  projection: ReturnType<typeof jiraProjection>;
  reactor: ReturnType<typeof jiraFetchReactor>;
  routes: FastifyPluginAsync;
  timers: JiraTimer[];
  timerSpecs: TimerSpec[];
  /** Runs the reactor, then the projection, until both are caught up (concurrent calls coalesce with the live loops). */
  pump(): Promise<void>;
  healthChecks(now: Date): Promise<ConnectorHealthCheck[]>;
  /** Resolves when the timer jobs running now are done (tests). */
  timersIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the runtime's parts without starting anything (for commands and tests). */
export function buildJira(host: JiraHost): Omit<JiraRuntime, 'pump' | 'stop' | 'timersIdle'> & { fetcher: IssueFetcher; index(): Promise<JiraProjectionState['issues']> } {
  const append = (e: Parameters<EventLog['append']>[0]) => host.log.append(e);
  const fetcher = issueFetcher({ ...host, append });
  const projection = jiraProjection({ append, warn: host.warn, ...(host.blobs ? { blobs: host.blobs } : {}) });
  const reactor = jiraFetchReactor(fetcher);
  const index = async (): Promise<JiraProjectionState['issues']> => {
    await host.runner.catchUp(projection);
    return host.runner.stateOf(projection).issues;
  };
  const { settings } = host;
  // One job per timer these settings run (jiraTimerNames: the server's thread reports the same list).
  const jobs: Record<JiraTimerName, JiraTimer['run']> = {
    'jira:consistency': async (at) => { await checkConsistency(fetcher, await index(), { deep: false, jql: settings.consistencyJql, maxBackfill: settings.consistencyMaxBackfill, scheduledAt: at }); },
    'jira:consistency-deep': async (at) => { await checkConsistency(fetcher, await index(), { deep: true, jql: settings.deepJql, maxBackfill: settings.consistencyMaxBackfill, scheduledAt: at }); },
    'jira:sla': async (at) => {
      const open = await searchIssues(fetcher, 'statusCategory != Done ORDER BY updated DESC');
      const issues = await index();
      const existing = new Map(open.flatMap((i) => (issues[i.key] && !issues[i.key]!.deleted ? [[i.key, issues[i.key]!.month] as const] : [])));
      await backfill(fetcher, { keys: [...existing.keys()], parallel: 4, part: 'sla', existing, skipExisting: false, dryRun: false, cause: `sla:${at}` });
    },
  };
  const timers: JiraTimer[] = jiraTimerNames(settings).map((name) => ({ name, cron: JIRA_CRONS[name], run: jobs[name] }));
  const healthChecks = async (now: Date): Promise<ConnectorHealthCheck[]> => {
    const checks: ConnectorHealthCheck[] = [];
    checks.push(settings.webhookSecret
      ? { name: 'jira:webhook', status: 'healthy', message: 'webhook secret configured' }
      : { name: 'jira:webhook', status: 'unhealthy', message: 'jira.webhook_secret is not set: POST /webhooks/jira refuses every delivery' });
    const live = Object.values(host.runner.stateOf(projection).issues).filter((i) => !i.deleted);
    const newest = live.reduce((m, i) => Math.max(m, i.updated), 0);
    const age = newest ? now.getTime() - newest : Infinity;
    checks.push(age <= FRESHNESS_MS
      ? { name: 'jira:freshness', status: 'healthy', message: `newest issue updated ${Math.round(age / 60_000)} min ago`, details: { issues: live.length } }
      : { name: 'jira:freshness', status: 'degraded', message: newest ? `newest issue is ${Math.round(age / 3600_000)} h old (more than 48 h)` : 'no Jira issue yet', details: { issues: live.length } });
    return checks;
  };
  return {
    projection, reactor, fetcher, index, timers, timerSpecs: jiraTimerSpecs(timers), healthChecks,
    routes: jiraWebhookRoutes({ webhookSecret: settings.webhookSecret, append }),
  };
}

/**
 * A loop that runs `pass` until no wake-up came during it; `run()` wakes it and resolves when it is idle again
 * (concurrent calls share the running loop).
 */
function passLoop(pass: () => Promise<void>, onError: (err: unknown) => void): { run(): Promise<void>; wake(): void; idle(): Promise<void> } {
  let running: Promise<void> | undefined;
  let again = false;
  const run = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again);
    })().finally(() => {
      running = undefined;
      // A wake-up that came after the last check of `again` still gets its pass.
      if (again) wake();
    });
    return running;
  };
  const wake = (): void => void run().catch(onError);
  return { run, wake, idle: async () => { while (running) await running.catch(() => undefined); } };
}

/** Starts Jira: sweeps temp files a killed process left, catches up, follows the log, runs the timers. */
export async function startJira(host: JiraHost): Promise<JiraRuntime> {
  const swept = await sweepJiraTempFiles(host.dataDir);
  if (swept.length) host.warn(`jira: removed ${swept.length} temp file(s) left by an interrupted write (${swept.slice(0, 3).map((f) => path.relative(host.dataDir, f)).join(', ')}${swept.length > 3 ? ', …' : ''})`);
  const parts = buildJira(host);
  const onError = (err: unknown): void => host.warn(`jira: ${(err as Error).message}`);
  // The reactor and the projection run apart: issues fetched early in a long batch of deliveries are published
  // while the reactor still fetches the rest, instead of waiting for the whole batch.
  const reactor = passLoop(async () => {
    await host.runner.catchUp(parts.reactor);
  }, onError);
  let lastProjection = 0;
  const projection = passLoop(async () => {
    const wait = lastProjection + PROJECTION_MIN_INTERVAL_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await host.runner.catchUp(parts.projection);
    lastProjection = performance.now();
  }, onError);
  const pump = async (): Promise<void> => {
    await reactor.run();
    await projection.run();
  };
  await pump();
  // Types are enough to wake the loops: the records are not parsed for it (the loops read what they handle).
  const follow = host.log.recorded$().subscribe((e) => {
    if (e.type === 'JiraWebhookReceived') reactor.wake();
    else if (PROJECTION_EVENTS.has(e.type)) projection.wake();
  });
  const timers = startJiraTimers({
    timers: parts.timers, lastFired: host.lastFired ?? new Map(), append: (e) => host.log.append(e),
    onError: (err, name) => host.warn(`${name}: ${(err as Error).message}`),
    ...(host.scheduler ? { scheduler: host.scheduler } : {}),
  });
  return {
    ...parts, pump,
    timersIdle: timers.idle,
    async stop() {
      timers.subscription.unsubscribe();
      follow.unsubscribe();
      await timers.idle();
      await reactor.idle();
      await projection.idle();
      // The reactor saves its checkpoint at most once a second: the last one now, so a restart fetches nothing again.
      await host.runner.saveCheckpoints();
    },
  };
}
