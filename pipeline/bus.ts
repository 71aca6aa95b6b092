/**
 * The bus: runs a connector's stream for one table, stages its rows as blobs (claim check) and
 * appends the events with idempotency keys; the Parquet reactor, driven by the log, publishes the
 * run. The bus records `SyncStarted` and `SyncSucceeded` or `SyncFailed` for every run.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { concatMap, lastValueFrom, takeUntil, fromEvent } from 'rxjs';
import { maskSecrets } from '../config/index.ts';
import type { AdaConfig, TableConfig } from '../config/index.ts';
import { adaError } from '../events/index.ts';
import type { BlobStore, EventLog, NewEvent, RecordedError } from '../events/index.ts';
import type { Connector, ConnectorEvent } from './contract.ts';
import type { ProjectionRunner } from './projection-runner.ts';
import { syncStateProjection } from './projections/sync-state/projection.ts';
import type { SyncState } from './projections/sync-state/projection.ts';
import type { ParquetWriter, StagedChunk } from './projections/parquet/writer.ts';
import type { AppliedRun } from './projections/parquet/writer.ts';
import { parquetReactor, recordPublished } from './projections/parquet/reactor.ts';
import type { ParquetReactor } from './projections/parquet/reactor.ts';
import type { SyncTrigger } from '../events/index.ts';
import { PipelineErrorCode } from './errors.ts';

/** Progress of a sync, for terminals and the portal. */
export interface SyncProgress {
  table: string;
  /** 1-based index of the table in this sync, and the number of tables. */
  index: number;
  total: number;
  phase: 'start' | 'fetch' | 'publish' | 'done' | 'failed';
  rows: number;
  bytes: number;
  message?: string;
}

/** How one table's run ended. */
export interface SyncOutcome {
  table: string;
  runId: string;
  status: 'succeeded' | 'failed';
  rows: number;
  bytes: number;
  files: number;
  durationMs: number;
  error?: RecordedError;
}

/** Something that can sync tables: looks up connectors by source. */
export interface ConnectorLookup {
  get(source: string): Connector | undefined;
}

/** What the bus works with. */
export interface BusDeps {
  config: AdaConfig;
  dataDir: string;
  log: EventLog;
  blobs: BlobStore;
  writer: ParquetWriter;
  connectors: ConnectorLookup;
  runner: ProjectionRunner;
  /** `source` of the events the bus appends (`cli:sync`, `serve`). */
  eventSource: string;
  /** The Parquet reactor the bus drives after staging; one is made over `writer` when not given. Register the same one (`bus.parquet`) with the other projections. */
  parquet?: ParquetReactor;
}

/** Options of one sync. */
export interface SyncOptions {
  trigger: SyncTrigger;
  onProgress?: (p: SyncProgress) => void;
  signal?: AbortSignal;
  now?: () => Date;
  /**
   * Fetch everything (ignore the cursor) and publish it as a replace run: the table's history starts anew at this
   * run, so a rebuild never reads what came before (the recovery of a table whose history is broken).
   */
  fullRefresh?: boolean;
}

/** An error as an event records it: code, message, and where in the input, with secrets masked. */
export function recordError(err: unknown, secrets: readonly string[]): RecordedError {
  const e = err as { code?: unknown; message?: unknown; details?: Record<string, unknown> };
  const details = e?.details ?? {};
  const out: RecordedError = {
    code: typeof e?.code === 'string' ? e.code : 'SYNC_ERROR',
    message: maskSecrets(typeof e?.message === 'string' ? e.message : String(err), [...secrets]),
  };
  if (typeof details.file === 'string') out.file = details.file;
  if (typeof details.line === 'number') out.line = details.line;
  if (typeof details.column === 'string') out.column = details.column;
  return out;
}

/** Creates a run id: table, UTC time, random suffix (sortable and unique). */
export function newRunId(table: string, now: Date): string {
  return `${table}-${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
}

/** Runs syncs: connectors stage into the log, the Parquet reactor publishes from it. */
export class SyncBus {
  /** The Parquet reactor that publishes the runs this bus stages. */
  readonly parquet: ParquetReactor;

  constructor(private readonly deps: BusDeps) {
    const writer = Promise.resolve(deps.writer);
    this.parquet = deps.parquet ?? parquetReactor({ config: deps.config, blobs: deps.blobs, writer: () => writer, append: (e) => this.append(e) });
  }

  /**
   * True until `recoverInterrupted` ran, and again from the start of a run until it ends in `SyncSucceeded`: only then
   * may a sync skip the recovery (rm of dead runs' files, the sync state, every table's applied run), which a server
   * whose runs all succeeded since it started would otherwise repeat before each one.
   */
  private needsRecovery = true;

  /** Makes the next sync recover first (after work that wrote outside the bus, such as a replay). */
  recoverBeforeNextSync(): void {
    this.needsRecovery = true;
  }

  /** Syncs tables one after another; one table's failure does not stop the others. */
  async syncTables(tables: readonly TableConfig[], options: SyncOptions): Promise<SyncOutcome[]> {
    // The connectors' DuckDB instances (some 10–40 ms each) are made while the recovery and the first SyncStarted run.
    for (const source of new Set(tables.map((t) => t.source))) {
      try {
        this.deps.connectors.get(source)?.prepare?.(tables.filter((t) => t.source === source));
      } catch {
        // A connector that cannot be created fails its tables' runs, each with the error (see syncTable).
      }
    }
    if (this.needsRecovery) await this.recoverInterrupted();
    const outcomes: SyncOutcome[] = [];
    for (let i = 0; i < tables.length; i++) {
      if (options.signal?.aborted) break;
      outcomes.push(await this.syncTable(tables[i]!, options, { index: i + 1, total: tables.length }));
    }
    return outcomes;
  }

  private append(event: NewEvent): Promise<unknown> {
    return this.deps.log.append({ source: this.deps.eventSource, ...event });
  }

  /** The sync state, caught up with the log. */
  async syncState(): Promise<SyncState> {
    await this.deps.runner.catchUp(syncStateProjection);
    return this.deps.runner.stateOf(syncStateProjection);
  }

  /** Syncs one table: stage, publish, record. Never throws for a failure of the table itself. */
  async syncTable(table: TableConfig, options: SyncOptions, place = { index: 1, total: 1 }): Promise<SyncOutcome> {
    const { config, dataDir, blobs, connectors, runner } = this.deps;
    const now = options.now?.() ?? new Date();
    const started = performance.now();
    const runId = newRunId(table.name, now);
    const progress = { rows: 0, bytes: 0 };
    // Clean again after this run only if it was clean before it (an earlier failed run still wants its recovery).
    const wasClean = !this.needsRecovery;
    this.needsRecovery = true;
    let succeeded = false;
    const report = (phase: SyncProgress['phase'], message?: string): void =>
      options.onProgress?.({ table: table.name, ...place, phase, rows: progress.rows, bytes: progress.bytes, ...(message ? { message } : {}) });
    const state = await this.syncState();
    const cursor = options.fullRefresh ? undefined : state.tables[table.name]?.cursor;
    await this.append({ type: 'SyncStarted', v: 1, key: `${runId}:started`, data: { runId, table: table.name, source: table.source, strategy: table.syncStrategy, trigger: options.trigger } });
    report('start');
    const workDir = path.join(dataDir, 'tmp', 'runs', runId);
    try {
      const connector = connectors.get(table.source);
      if (!connector) throw adaError(PipelineErrorCode.sourceDisabled, `table ${table.name}: source "${table.source}" is not enabled (its settings are missing from instance.yaml)`);
      await mkdir(workDir, { recursive: true });
      const controller = new AbortController();
      const onAbort = (): void => controller.abort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const chunks: StagedChunk[] = [];
      let complete: Extract<ConnectorEvent, { kind: 'complete' }> | undefined;
      const stream$ = connector.sync({ runId, table, cursor, workDir, signal: controller.signal, now });
      await lastValueFrom(stream$.pipe(
        takeUntil(options.signal ? fromEvent(options.signal, 'abort') : []),
        concatMap(async (e: ConnectorEvent) => {
          if (e.kind === 'chunk') {
            const blob = await blobs.putFile(e.path, { replaceCorrupt: options.fullRefresh === true, ...(e.digest ? { digest: e.digest } : {}) });
            const chunk: StagedChunk = { blob: { ...blob, format: e.format }, rows: e.rows, schema: e.schema };
            chunks.push(chunk);
            await this.append({
              type: 'TableChunkStaged', v: 1, key: `${runId}:chunk:${chunks.length}`,
              data: { runId, table: table.name, chunk: chunks.length, blob: chunk.blob, rows: e.rows, schema: e.schema, ...(e.sourceFile ? { sourceFile: e.sourceFile } : {}) },
            });
            progress.rows += e.rows;
            progress.bytes += blob.bytes;
            report('fetch');
          } else if (e.kind === 'progress') {
            if (e.message) report('fetch', e.message);
          } else {
            complete = e;
          }
        }),
      ), { defaultValue: undefined });
      options.signal?.removeEventListener('abort', onAbort);
      if (options.signal?.aborted) throw adaError(PipelineErrorCode.cancelled, 'sync cancelled');
      if (!complete) throw adaError(PipelineErrorCode.connectorIncomplete, `connector ${table.source} ended without completing the run`);
      const mode = options.fullRefresh ? 'replace' : complete.mode;
      await this.append({ type: 'TableStagingCompleted', v: 1, key: `${runId}:staged`, data: { runId, table: table.name, chunks: chunks.length, rows: progress.rows, mode, cursor: complete.cursor, ...(complete.metadata ? { metadata: complete.metadata } : {}) } });
      report('publish');
      let published: AppliedRun | undefined;
      // An upsert of no rows changes nothing: the reactor skips it (see reactor.ts).
      if (chunks.length > 0 || mode === 'replace') {
        await runner.catchUp(this.parquet);
        published = await this.publishedRun(table.name, runId);
      }
      const durationMs = Math.round(performance.now() - started);
      await this.append({ type: 'SyncSucceeded', v: 1, key: `${runId}:succeeded`, data: { runId, table: table.name, rows: progress.rows, cursor: complete.cursor, durationMs } });
      succeeded = true;
      report('done');
      return { table: table.name, runId, status: 'succeeded', rows: published?.runRows ?? (mode === 'replace' && published ? published.rows : progress.rows), bytes: published?.bytes ?? 0, files: published?.files.length ?? 0, durationMs };
    } catch (err) {
      const error = recordError(err, config.secrets);
      const durationMs = Math.round(performance.now() - started);
      await this.append({ type: 'SyncFailed', v: 1, key: `${runId}:failed`, data: { runId, table: table.name, error, durationMs } });
      report('failed', error.message);
      return { table: table.name, runId, status: 'failed', rows: progress.rows, bytes: 0, files: 0, durationMs, error };
    } finally {
      await rm(workDir, { recursive: true, force: true });
      if (succeeded && wasClean) this.needsRecovery = false;
    }
  }

  /** What the reactor made of a run: its published state, or the error that kept it from being published. */
  private async publishedRun(table: string, runId: string): Promise<AppliedRun> {
    const outcome = this.parquet.takeOutcome(runId);
    if (outcome?.ok) return outcome.result;
    if (outcome) throw outcome.error;
    // Applied by another catch-up of the same reactor (the server's loop): the writer remembers it.
    const applied = await this.deps.writer.applied(table);
    if (applied?.runId === runId) return applied;
    throw adaError(PipelineErrorCode.publishFailed, `table ${table}: run ${runId} was staged but not published; see the warnings of the Parquet reactor`, { table });
  }

  /**
   * Finishes what a killed sync left: a run the writer applied but the log never recorded gets its
   * `TablePublished`; a run with no end gets `SyncFailed` (interrupted), so its cursor does not advance.
   * Temp files of dead runs are deleted.
   */
  async recoverInterrupted(): Promise<void> {
    const { writer, config, dataDir } = this.deps;
    await rm(path.join(dataDir, 'tmp', 'runs'), { recursive: true, force: true });
    const state = await this.syncState();
    for (const applied of await writer.allApplied()) {
      const t = state.tables[applied.table];
      const table = config.tables.find((x) => x.name === applied.table);
      if (!table || t?.published?.runId === applied.runId) continue;
      if (this.deps.log.positionOfKey(`published:${applied.runId}`) !== undefined) continue;
      await recordPublished((e) => this.append(e), table.syncStrategy, applied);
    }
    for (const t of Object.values(state.tables)) {
      if (t.lastRun?.status !== 'running') continue;
      await this.append({
        type: 'SyncFailed', v: 1, key: `${t.lastRun.runId}:failed`,
        data: { runId: t.lastRun.runId, table: t.table, error: { code: PipelineErrorCode.interrupted, message: 'the sync process stopped before this run finished; the next run starts over from the last successful cursor' }, durationMs: 0 },
      });
    }
    this.needsRecovery = false;
  }
}
