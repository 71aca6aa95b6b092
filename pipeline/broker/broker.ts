/**
 * The broker: the composition root of the pipeline. It opens the log, blobs, checkpoints and the
 * projection runner, registers every projection once, runs syncs one at a time through its queue,
 * and — once started by `ada serve` — the timers and the health loop. Commands and the control
 * socket use its typed API; nothing else folds the log.
 */
import path from 'node:path';
import { asyncScheduler, concatMap, filter, lastValueFrom, throttleTime, toArray } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import type { AdaConfig } from '../../config/index.ts';
import { adaError, BlobStore, CheckpointStore, EventLog, EventLogReader } from '../../events/index.ts';
import type { AppendResult, NewEvent, RecordedError, SyncTrigger } from '../../events/index.ts';
import { SyncBus } from '../bus.ts';
import type { SyncOutcome, SyncProgress } from '../bus.ts';
import { ProjectionRunner } from '../projection-runner.ts';
import type { Projection } from '../projection.ts';
import { ParquetWriter } from '../projections/parquet/writer.ts';
import { ParquetPublisher } from '../projections/parquet/publish.ts';
import type { ParquetReactor } from '../projections/parquet/reactor.ts';
import { healthProjection } from '../projections/health/health.ts';
import type { HealthReport, HealthState } from '../projections/health/health.ts';
import { accessProjection, authenticateToken } from '../projections/access/projection.ts';
import type { AccessState, Principal } from '../projections/access/projection.ts';
import { lastFiredTimes, timersProjection } from '../projections/timers/projection.ts';
import type { TimersState } from '../projections/timers/projection.ts';
import { startScheduler } from '../scheduler/scheduler.ts';
import { timerSpecs } from '../scheduler/timers.ts';
import { analystsApi } from './analysts.ts';
import type { AnalystsApi } from './analysts.ts';
import { evaluateBrokerHealth } from './evaluate.ts';
import { eventReads } from './event-reads.ts';
import type { EventReads } from './event-reads.ts';
import { profileOnDemand } from './profile.ts';
import type { ProfileRequest, ProfileResult } from './profile.ts';
import { BACKGROUND_PROJECTION, projectionRegistry } from './registry.ts';
import { SyncQueue } from './sync-queue.ts';
import { checkpointsDirOf, eventsDirOf } from './paths.ts';
import { stderrLogger } from './types.ts';
import type { BrokerConnectors, BrokerLogger, BrokerOptions } from './types.ts';
import { PipelineErrorCode } from '../errors.ts';

/** How often a started broker re-evaluates health (timers and freshness change with the clock, not only with events). */
export const HEALTH_INTERVAL_MS = 30_000;

/**
 * Quiet time after a `TablePublished` a started broker waits before profiling: a table published outside a sync
 * (Jira's projection rewrites months several times a second under a burst of webhooks) is profiled once per
 * window, after the last publish in it, instead of once per publish.
 */
export const PROFILE_AFTER_PUBLISH_MS = 2_000;

/** What `sync` is asked. */
export interface BrokerSyncRequest {
  /** Configured table names; all tables when empty or left out. */
  tables?: readonly string[];
  trigger?: SyncTrigger;
  /** Who asked, for the server's log (`ada sync (via control socket)`, `timer source:csv`). */
  by?: string;
  onProgress?: (p: SyncProgress) => void;
  /** Ignore cursors and publish everything as a replace run, starting each table's history anew. */
  fullRefresh?: boolean;
}

/** One projection rebuilt by `replay`. */
export interface ReplayResult {
  projection: string;
  position: number;
  durationMs: number;
  /** Tables whose history this rebuild could not read; their published files were kept. */
  brokenTables?: BrokenTable[];
}

/** A table whose history is broken, as `TableHistoryBroken` records it. */
export interface BrokenTable {
  table: string;
  position: number;
  runId: string;
  blob: string | null;
  error: RecordedError;
}

/** The text of a finished table in the server's log. */
function outcomeLine(p: SyncProgress): string {
  return `[${p.index}/${p.total}] ${p.table} ${p.phase === 'done' ? 'done' : 'FAILED'} ${p.rows} rows${p.phase === 'failed' && p.message ? `: ${p.message}` : ''}`;
}

/** An open broker; `close` releases the log lock, DuckDB, the timers and the connectors. */
export class Broker {
  readonly config: AdaConfig;
  readonly dataDir: string;
  /** The log, for followers (the notification gateway); append through `append`. */
  readonly log: EventLog;
  /** Analysts and their tokens. */
  readonly analysts: AnalystsApi;
  /** The log's read-only views. */
  readonly events: EventReads;
  private readonly runner: ProjectionRunner;
  private readonly projections: Record<string, Projection<unknown>>;
  private readonly bus: SyncBus;
  private readonly queue = new SyncQueue();
  private readonly logger: BrokerLogger;
  private readonly connectors: BrokerConnectors;
  private readonly writer: ParquetWriter;
  private readonly signal: AbortSignal | undefined;
  private started = false;
  private closing: Promise<void> | undefined;
  private scheduler: Subscription | undefined;
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  private profiling: Promise<void> = Promise.resolve();
  private profileQueued = false;
  private published: Subscription | undefined;
  private lastStatus: HealthReport['status'] | 'unknown' = 'unknown';

  /** The blob store (claim checks), for connectors that stage their own files (Jira's attachments). */
  readonly blobs: BlobStore;

  private constructor(parts: { options: BrokerOptions; log: EventLog; blobs: BlobStore; writer: ParquetWriter; connectors: BrokerConnectors }) {
    const { options, log, blobs, writer, connectors } = parts;
    this.blobs = blobs;
    this.config = options.config;
    this.dataDir = options.dataDir;
    this.log = log;
    this.writer = writer;
    this.connectors = connectors;
    this.signal = options.signal;
    this.logger = options.logger ?? stderrLogger;
    this.runner = new ProjectionRunner(log, new CheckpointStore(checkpointsDirOf(this.dataDir)), this.dataDir);
    const warn = (m: string): void => this.logger.warn(m);
    this.projections = projectionRegistry({ config: this.config, writer: async () => writer, blobs, append: (e) => log.append({ source: options.eventSource, ...e }), warn, ...(options.signal ? { signal: options.signal } : {}) });
    const parquet = this.projections.parquet as unknown as ParquetReactor;
    this.bus = new SyncBus({ config: this.config, dataDir: this.dataDir, log, blobs, writer, connectors, runner: this.runner, eventSource: options.eventSource, parquet });
    this.analysts = this.analystsFor(options.eventSource);
    this.events = eventReads(new EventLogReader(eventsDirOf(this.dataDir)));
  }

  /** Opens the log (taking its writer lock: `LOCKED` when another process holds it) and the stores. */
  static async open(options: BrokerOptions): Promise<Broker> {
    const logger = options.logger ?? stderrLogger;
    // The Parquet writer's DuckDB instance (in memory: it touches no file of the data dir) starts while the log opens
    // and takes its lock; the writer's recovery, which does touch files, waits for the lock.
    const publisher = ParquetPublisher.create();
    publisher.catch(() => undefined);
    const closePublisher = (): Promise<void> => publisher.then((p) => p.close(), () => undefined);
    let log: EventLog;
    try {
      log = await EventLog.open(eventsDirOf(options.dataDir), { defaultSource: options.eventSource, logger: { warn: (m) => logger.warn(m) } });
    } catch (err) {
      await closePublisher();
      throw err;
    }
    let writer: ParquetWriter | undefined;
    try {
      const blobs = await BlobStore.create(path.join(options.dataDir, 'blobs'));
      writer = await ParquetWriter.create(options.dataDir, blobs, { publisher });
      return new Broker({ options, log, blobs, writer, connectors: options.connectors(options.config) });
    } catch (err) {
      await (writer ? writer.close() : closePublisher());
      await log.close();
      throw err;
    }
  }

  /** Names of the registered projections, in catch-up order. */
  projectionNames(): string[] {
    return Object.keys(this.projections);
  }

  /** The analysts API recording its events with another `source` (the command that asked through the control socket). */
  analystsFor(eventSource: string): AnalystsApi {
    return analystsApi({ config: this.config, runner: this.runner, append: (e) => this.log.append(e), eventSource });
  }

  /** Appends events (from another command, through the control socket). */
  append(events: readonly NewEvent[]): Promise<AppendResult[]> {
    return Promise.all(events.map((e) => this.log.append(e)));
  }

  /**
   * Syncs tables after the runs already queued. Each table's run is published (its Parquet file in place and
   * `TablePublished` durable) before its outcome is given. A broker that is not started then brings every projection
   * but the profiler up to date before resolving; a started one (`ada serve`) resolves at once and catches the
   * other projections up, profiles and re-evaluates health in its queue, before the next run (a reader of a
   * projection catches it up itself, so nobody sees it behind).
   */
  sync(request: BrokerSyncRequest = {}): Promise<SyncOutcome[]> {
    const names = request.tables?.length ? [...request.tables] : this.config.tables.map((t) => t.name);
    const unknown = names.filter((n) => !this.config.tables.some((t) => t.name === n));
    if (unknown.length) return Promise.reject(adaError(PipelineErrorCode.badArgument, `unknown table${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; configured: ${this.config.tables.map((t) => t.name).join(', ') || '(none)'}`));
    const tables = this.config.tables.filter((t) => names.includes(t.name));
    const trigger = request.trigger ?? 'manual';
    // Whether the caller waits for the projections is decided when the run begins (`start` may come in between).
    let answerEarly = false;
    return this.queue.enqueue({
      tables: names,
      run: async () => {
        answerEarly = this.started;
        if (this.started) this.logger.info(`${request.by ?? trigger}: syncing ${names.join(', ')}`, { tables: names, trigger });
        const outcomes = await this.bus.syncTables(tables, {
          trigger,
          ...(request.fullRefresh ? { fullRefresh: true } : {}),
          ...(this.signal ? { signal: this.signal } : {}),
          onProgress: (p) => {
            request.onProgress?.(p);
            if (this.started && (p.phase === 'done' || p.phase === 'failed')) this.logger.info(outcomeLine(p), { table: p.table, phase: p.phase, rows: p.rows, bytes: p.bytes });
          },
        });
        if (!answerEarly) await this.catchUpForeground();
        return outcomes;
      },
      after: async () => {
        if (!answerEarly) return;
        try {
          await this.catchUpForeground();
          if (this.started) {
            this.profileSoon();
            await this.checkHealth();
          }
        } catch (err) {
          this.logger.error(`after the sync of ${names.join(', ')}: ${(err as Error).message}`);
        }
      },
    });
  }

  /** Deletes the named projections' outputs (all when empty) and rebuilds them from the log, one at a time. */
  replay(names: readonly string[] = [], onProgress?: (projection: string, position: number, head: number) => void): Promise<ReplayResult[]> {
    const wanted = names.length ? [...names] : this.projectionNames();
    const unknown = wanted.filter((n) => !this.projections[n]);
    if (unknown.length) return Promise.reject(adaError(PipelineErrorCode.badArgument, `unknown projection ${unknown.join(', ')}; known: ${this.projectionNames().join(', ')}`));
    return this.queue.enqueue({
      tables: [],
      run: async () => {
        this.bus.recoverBeforeNextSync();
        const results: ReplayResult[] = [];
        for (const name of wanted) {
          const started = performance.now();
          const head = this.log.head;
          onProgress?.(name, 0, head);
          const position = await this.runner.rebuild(this.projections[name]!, (at) => onProgress?.(name, at, head));
          const brokenTables = await this.brokenSince(head);
          results.push({ projection: name, position, durationMs: Math.round(performance.now() - started), ...(brokenTables.length ? { brokenTables } : {}) });
        }
        return results;
      },
    });
  }

  /** Tables a rebuild found with a broken history (`TableHistoryBroken` appended after `head`). */
  private async brokenSince(head: number): Promise<BrokenTable[]> {
    const events = await lastValueFrom(this.log.read$(head + 1).pipe(toArray()));
    return events.flatMap((e) => (e.type === 'TableHistoryBroken' ? [{ table: e.data.table, position: e.data.position, runId: e.data.runId, blob: e.data.blob ?? null, error: e.data.error }] : []));
  }

  /** The health report now (projections caught up first); a started broker records a change of status as `HealthChanged`. */
  health(): Promise<HealthReport> {
    return this.started ? this.checkHealth() : this.evaluate();
  }

  /** Profiles published tables here and records the outcomes in the log. */
  profile(request: ProfileRequest): Promise<ProfileResult> {
    return profileOnDemand({ config: this.config, dataDir: this.dataDir, reader: this.log, append: (e) => this.log.append(e) }, { ...(this.signal ? { signal: this.signal } : {}), ...request });
  }

  /** The person a personal token belongs to, if it is valid. */
  authenticate(token: string): Promise<Principal | undefined> | Principal | undefined {
    // Caught up with the head (the common case): the answer at once, without a promise per request.
    if (this.log.head === this.accessHead) return authenticateToken(this.runner.stateOf(accessProjection), this.config, token);
    return this.accessState().then((state) => authenticateToken(state, this.config, token));
  }

  /** Analysts whose tokens stop working from now on (revoked or removed), once the access state knows it. */
  revoked$(): Observable<{ name: string }> {
    return this.log.follow$(this.log.head + 1, { types: ['TokenRevoked', 'AnalystRemoved'] }).pipe(
      filter((e) => e.type === 'TokenRevoked' || e.type === 'AnalystRemoved'),
      concatMap(async (e) => {
        await this.accessState();
        return { name: (e.data as { name: string }).name };
      }),
    );
  }

  /**
   * Starts the server's work: finishes runs a crash interrupted, catches every projection up,
   * arms the timers (their syncs share the queue) and the health loop.
   */
  async start(): Promise<void> {
    if (this.started) return;
    await this.bus.recoverInterrupted();
    await this.catchUpForeground();
    this.started = true;
    this.profileSoon();
    // Tables published outside a sync (by a connector's own projection) are profiled too.
    this.published = this.log.follow$(this.log.head + 1, { types: ['TablePublished'] }).pipe(
      filter((e) => e.type === 'TablePublished'),
      throttleTime(PROFILE_AFTER_PUBLISH_MS, asyncScheduler, { leading: false, trailing: true }),
    ).subscribe({ next: () => this.profileSoon(), error: (err: unknown) => this.logger.error(`profiler: following the log failed: ${(err as Error).message}`) });
    const lastFired = lastFiredTimes(this.runner.stateOf(timersProjection) as TimersState);
    const specs = timerSpecs(this.config);
    this.scheduler = startScheduler({
      specs,
      lastFired,
      append: (e) => this.log.append(e),
      isRunning: (t) => this.queue.isRunning(t),
      startRun: (tables, timer) => void this.sync({ tables, trigger: 'timer', by: `timer ${timer}` }).catch((err: unknown) => this.logger.error(`timer ${timer}: ${(err as Error).message}`, { timer })),
      onError: (err) => this.logger.error(`timer error: ${(err as Error).message}`),
    });
    for (const s of specs) this.logger.info(`timer ${s.name}: "${s.cron}" (UTC) for ${s.tables.join(', ')}`, { timer: s.name, cron: s.cron, tables: s.tables });
    await this.checkHealth();
    this.healthTimer = setInterval(() => void this.checkHealth().catch((err: unknown) => this.logger.error(`health: ${(err as Error).message}`)), HEALTH_INTERVAL_MS);
  }

  /** Stops the timers and the health loop, waits for queued runs and profiling, then releases everything. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.healthTimer);
      this.scheduler?.unsubscribe();
      this.published?.unsubscribe();
      this.started = false;
      try {
        await this.queue.drain();
        await this.profiling;
      } finally {
        await this.connectors.close();
        await this.writer.close();
        await this.log.close();
      }
    })();
    return this.closing;
  }

  /** When each timer last fired, from the log: a service connector's timers (Jira's) start from these, like the broker's own. */
  async lastFiredTimes(): Promise<Map<string, Date>> {
    await this.runner.catchUp(timersProjection);
    return lastFiredTimes(this.runner.stateOf(timersProjection) as TimersState);
  }

  /** The position a registered projection has folded up to (after `stateOf`). */
  positionOf(name: string): number {
    return this.runner.positionOf(name);
  }

  /** A registered projection's state, caught up with the log (the portal's pages read catalog, sync-state, access). */
  async stateOf<S>(name: string): Promise<S> {
    const p = this.projections[name];
    if (!p) throw adaError(PipelineErrorCode.badArgument, `unknown projection ${name}; known: ${this.projectionNames().join(', ')}`);
    await this.runner.catchUp(p);
    return this.runner.stateOf(p) as S;
  }

  // Every authenticated request asks for the access state: fold the log only when its head has moved.
  private accessHead = -1;

  private async accessState(): Promise<AccessState> {
    const head = this.log.head;
    if (head !== this.accessHead) {
      await this.runner.catchUp(accessProjection);
      this.accessHead = head;
    }
    return this.runner.stateOf(accessProjection);
  }

  private async catchUpForeground(): Promise<void> {
    // The Parquet writer first: it appends `TablePublished`, which the others fold. They then read the log up to the
    // same head, each writing only its own outputs and checkpoint, so they catch up side by side and their fsyncs
    // (about fifteen after a sync) overlap instead of queueing; the first failure is thrown once all have settled.
    // (Of the projections, only the writer and the profiler append events.)
    const parquet = this.projections.parquet;
    if (parquet) await this.runner.catchUp(parquet);
    const rest = Object.entries(this.projections).filter(([name]) => name !== 'parquet' && name !== BACKGROUND_PROJECTION).map(([, p]) => p);
    const failed = (await Promise.allSettled(rest.map((p) => this.runner.catchUp(p)))).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  // Profiling runs on its own chain (in a child process) so a big table never holds up the next sync.
  private profileSoon(): void {
    const profiler = this.projections[BACKGROUND_PROJECTION];
    // One pass waiting is enough: it folds everything published before it starts.
    if (!profiler || this.profileQueued) return;
    this.profileQueued = true;
    this.profiling = this.profiling.then(() => {
      this.profileQueued = false;
      return this.runner.catchUp(profiler);
    }).then(() => undefined, (err: unknown) => this.logger.error(`profiler: ${(err as Error).message}`));
  }

  private async evaluate(): Promise<HealthReport> {
    await this.runner.catchUp(healthProjection);
    const projections = Object.fromEntries(this.projectionNames().map((n) => [n, this.runner.positionOf(n)]));
    return evaluateBrokerHealth({
      config: this.config, dataDir: this.dataDir, state: this.runner.stateOf(healthProjection) as HealthState, head: this.log.head,
      projections, timersActive: this.started, connectors: this.connectors,
    });
  }

  private async checkHealth(): Promise<HealthReport> {
    const report = await this.evaluate();
    if (report.status !== this.lastStatus) {
      const previous = this.lastStatus;
      this.lastStatus = report.status;
      await this.log.append({ type: 'HealthChanged', v: 2, source: 'serve', data: { status: report.status, previous, reasons: report.reasons, problems: report.problems } });
      this.logger.info(`health: ${report.status}${report.reasons.length ? ` (${report.reasons.join('; ')})` : ''}`, { status: report.status, previous });
    }
    return report;
  }
}
