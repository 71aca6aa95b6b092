/**
 * Jira inside the server with its work on a thread of its own. The webhook route stays on the main thread (verify,
 * append, answer); the fetch reactor, the monthly projection and the timers run on the thread, which reads the log
 * from its files and appends through the main thread's log (the single writer). On two cores the reactor's fetches
 * and parses and the projection's passes held the event loop that answers webhooks for milliseconds at a time.
 */
import { Worker } from 'node:worker_threads';
import type { FastifyPluginAsync } from 'fastify';
import type { ConnectorHealthCheck, TimerSpec } from '../../pipeline/index.ts';
import { checkpointsDirOf } from '../../pipeline/index.ts';
import type { AppendResult, EventLog, NewEvent } from '../../events/index.ts';
import type { JiraHost } from './runtime.ts';
import { JIRA_CRONS, jiraTimerNames, jiraTimerSpecs } from './timers.ts';
import { threadSource } from './thread-source.ts';
import { jiraWebhookRoutes } from './webhook-route.ts';

/** What the thread starts from (structured-cloned into it). */
export interface JiraThreadData {
  settings: JiraHost['settings'];
  dataDir: string;
  logDir: string;
  checkpointsDir: string;
  blobsRoot?: string;
  /** The last durable position when the thread starts (its reads stop there until told of more). */
  head: number;
  lastFired: Array<[string, string]>;
}

/** Messages to the thread. */
export type ToJiraThread =
  | { kind: 'appended'; id: number; head: number; result?: AppendResult; error?: { message: string; code?: string } }
  | { kind: 'wake'; head: number; reactor: boolean; projection: boolean }
  | { kind: 'health'; id: number; now: string }
  | { kind: 'pump'; id: number }
  | { kind: 'stop'; id: number };

/** Messages from the thread. */
export type FromJiraThread =
  | { kind: 'append'; id: number; event: NewEvent }
  | { kind: 'warn'; message: string }
  | { kind: 'ready' }
  | { kind: 'health'; id: number; checks: ConnectorHealthCheck[] }
  | { kind: 'pumped'; id: number; positions?: { reactor: number; projection: number }; error?: string }
  | { kind: 'stopped'; id: number }
  | { kind: 'failed'; message: string };

/** A host whose log is this process's writer (the thread reads its directory); the thread runs its own projection runner. */
export type JiraThreadHost = Omit<JiraHost, 'log' | 'runner' | 'scheduler' | 'sleep'> & { log: Pick<EventLog, 'append' | 'recorded$' | 'dir' | 'head'> };

/** Jira running on its thread. */
export interface JiraThreadRuntime {
  routes: FastifyPluginAsync;
  timerSpecs: TimerSpec[];
  healthChecks(now: Date): Promise<ConnectorHealthCheck[]>;
  /** Runs the reactor, then the projection, until both are caught up; resolves with where each stands. */
  pump(): Promise<{ reactor: number; projection: number }>;
  /** The thread running now, if one is (tests, diagnostics). */
  thread(): Worker | undefined;
  stop(): Promise<void>;
}

/** A health answer the thread owes after this long is reported as missing (the thread is busy or stuck). */
const HEALTH_TIMEOUT_MS = 10_000;
/** First wait before a thread that stopped is started again; it doubles up to the maximum. */
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 60_000;

/** Starts Jira on its own thread and resolves once the thread has caught up with the log. */
export async function startJiraThread(host: JiraThreadHost): Promise<JiraThreadRuntime> {
  const { settings, log } = host;
  const lastFired = new Map(host.lastFired ?? []);
  let worker: Worker | undefined;
  let failure: string | undefined;
  let stopping = false;
  let restartMs = RESTART_MIN_MS;
  let restartTimer: NodeJS.Timeout | undefined;
  let nextId = 1;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  const ask = <T>(w: Worker, message: { kind: 'health'; now: string } | { kind: 'pump' } | { kind: 'stop' }): Promise<T> => new Promise<T>((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
    w.postMessage({ ...message, id });
  });

  const onMessage = (w: Worker, m: FromJiraThread): void => {
    switch (m.kind) {
      case 'append': {
        const event = m.event;
        log.append(event).then((result) => {
          // A restarted scheduler starts from the timers' last firings, this thread's included.
          if (event.type === 'TimerFired' && !result.duplicate) lastFired.set(event.data.timer, new Date(event.data.scheduledAt));
          w.postMessage({ kind: 'appended', id: m.id, head: log.head, result } satisfies ToJiraThread);
        }, (err: unknown) => {
          const e = err as Error & { code?: string };
          w.postMessage({ kind: 'appended', id: m.id, head: log.head, error: { message: e.message, ...(e.code ? { code: e.code } : {}) } } satisfies ToJiraThread);
        });
        return;
      }
      case 'warn':
        host.warn(m.message);
        return;
      case 'health':
      case 'pumped':
      case 'stopped': {
        const waiter = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.kind === 'pumped' && m.error) waiter?.reject(new Error(m.error));
        else waiter?.resolve(m.kind === 'health' ? m.checks : m.kind === 'pumped' ? m.positions : undefined);
        return;
      }
      case 'ready':
      case 'failed':
        return;
    }
  };

  /** Starts a thread; resolves when it has caught up, rejects when it cannot start. */
  const launch = (): Promise<Worker> => new Promise<Worker>((resolve, reject) => {
    const source = threadSource('runtime-worker', import.meta.url);
    const data: JiraThreadData = {
      settings, dataDir: host.dataDir, logDir: log.dir, checkpointsDir: checkpointsDirOf(host.dataDir), head: log.head,
      lastFired: [...lastFired].map(([name, at]) => [name, at.toISOString()]),
      ...(host.blobs ? { blobsRoot: host.blobs.root } : {}),
    };
    const w = new Worker(source.code, { eval: true, workerData: { ...source.workerData, ...data } });
    let started = false;
    w.on('message', (m: FromJiraThread) => {
      if (!started && m.kind === 'ready') {
        started = true;
        resolve(w);
      } else if (!started && m.kind === 'failed') {
        started = true;
        reject(new Error(m.message));
        void w.terminate();
      } else {
        onMessage(w, m);
      }
    });
    const gone = (err?: Error): void => {
      if (!started) {
        started = true;
        reject(err ?? new Error('the Jira thread exited while starting'));
        return;
      }
      if (worker !== w) return;
      worker = undefined;
      if (!stopping) failure = err?.message ?? 'it exited';
      // Whatever waited on the thread is answered: health says it stopped, a pump or stop has nothing left to wait for.
      for (const [id, waiter] of waiting) {
        waiting.delete(id);
        waiter.reject(new Error(`the Jira thread stopped: ${failure ?? 'it exited'}`));
      }
      if (stopping) return;
      host.warn(`jira: the thread running the fetch reactor, the projection and the timers stopped (${failure}); starting it again in ${restartMs / 1000} s`);
      restartTimer = setTimeout(() => void relaunch(), restartMs);
      restartTimer.unref();
      restartMs = Math.min(RESTART_MAX_MS, restartMs * 2);
    };
    w.on('error', gone);
    w.on('exit', () => gone());
  });

  const relaunch = async (): Promise<void> => {
    restartTimer = undefined;
    if (stopping) return;
    try {
      worker = await launch();
      failure = undefined;
      restartMs = RESTART_MIN_MS;
      host.warn('jira: the thread is running again');
    } catch (err) {
      failure = (err as Error).message;
      host.warn(`jira: the thread did not start again (${failure}); next try in ${restartMs / 1000} s`);
      restartTimer = setTimeout(() => void relaunch(), restartMs);
      restartTimer.unref();
      restartMs = Math.min(RESTART_MAX_MS, restartMs * 2);
    }
  };

  // Tells the thread of new deliveries and issue changes, once per turn of the event loop, with the durable head: its
  // reads stop there.
  let wake = { reactor: false, projection: false };
  let scheduled = false;
  const follow = log.recorded$().subscribe((e) => {
    if (e.type === 'JiraWebhookReceived') wake.reactor = true;
    else if (e.type === 'JiraIssueChanged' || e.type === 'JiraIssueDeleted') wake.projection = true;
    else return;
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      worker?.postMessage({ kind: 'wake', head: log.head, ...wake } satisfies ToJiraThread);
      wake = { reactor: false, projection: false };
    });
  });

  try {
    worker = await launch();
  } catch (err) {
    follow.unsubscribe();
    throw err;
  }

  const timerSpecs = jiraTimerSpecs(jiraTimerNames(settings).map((name) => ({ name, cron: JIRA_CRONS[name] })));
  return {
    routes: jiraWebhookRoutes({ webhookSecret: settings.webhookSecret, append: (e) => log.append(e) }),
    timerSpecs,
    async healthChecks(now) {
      const w = worker;
      const stopped: ConnectorHealthCheck = { name: 'jira:runtime', status: 'unhealthy', message: `the Jira thread stopped (${failure ?? 'unknown'}): deliveries are recorded, but no issue is fetched or published until it runs again` };
      if (!w) return [stopped];
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<ConnectorHealthCheck[]>((resolve) => {
        timer = setTimeout(() => resolve([{ name: 'jira:runtime', status: 'degraded', message: `the Jira thread did not answer within ${HEALTH_TIMEOUT_MS / 1000} s` }]), HEALTH_TIMEOUT_MS);
        timer.unref();
      });
      try {
        return await Promise.race([ask<ConnectorHealthCheck[]>(w, { kind: 'health', now: now.toISOString() }), late]);
      } catch {
        return [stopped];
      } finally {
        clearTimeout(timer);
      }
    },
    async pump() {
      if (!worker) throw new Error(`the Jira thread stopped: ${failure ?? 'it exited'}`);
      return ask<{ reactor: number; projection: number }>(worker, { kind: 'pump' });
    },
    thread: () => worker,
    async stop() {
      stopping = true;
      follow.unsubscribe();
      if (restartTimer) clearTimeout(restartTimer);
      const w = worker;
      if (!w) return;
      // The thread finishes its passes and timer jobs (their appends still come through here), then exits.
      await ask(w, { kind: 'stop' }).catch(() => undefined);
      worker = undefined;
      await w.terminate();
    },
  };
}
