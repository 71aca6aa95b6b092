/**
 * The run lifecycle connectors that convert with DuckDB share: one lazily created in-memory instance, a
 * cold Observable per table run that `request.signal` or unsubscribing cancels, and a close() that aborts
 * running runs and waits for them before closing the instance under them.
 */
import { createDuckDBInstance } from './duckdb-instance.ts';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { Observable } from 'rxjs';
import { adaError, ErrorCode } from '../events/index.ts';
import type { ConnectorEvent, SyncRequest } from './contract.ts';

/** How a run's work is done, given its connection, its cancellation signal and where its events go. */
export type RunBody = (connection: DuckDBConnection, signal: AbortSignal, emit: (event: ConnectorEvent) => void) => Promise<void>;

/** DuckDB runs of one connector. */
export class DuckDbRuns {
  #instance: Promise<DuckDBInstance> | undefined;
  #closed = false;
  /** Runs in flight: close() aborts them and waits before closing the instance. */
  readonly #running = new Map<AbortController, Promise<void>>();

  /**
   * `name` appears in errors; `settings` are run on every new connection (e.g. `SET TimeZone = 'UTC'`);
   * `options` are DuckDB instance options (e.g. memory_limit).
   */
  constructor(
    private readonly name: string,
    private readonly settings: readonly string[],
    private readonly options: Record<string, string> = {},
  ) {}

  /** A cold Observable running `body` once per subscription. */
  run$(request: SyncRequest, body: RunBody): Observable<ConnectorEvent> {
    return new Observable<ConnectorEvent>((subscriber) => {
      const controller = new AbortController();
      const forward = (): void => controller.abort(request.signal.reason);
      if (request.signal.aborted) forward();
      else request.signal.addEventListener('abort', forward, { once: true });
      const done = this.#connect()
        .then((connection) => body(connection, controller.signal, (event) => subscriber.next(event)))
        .then(() => subscriber.complete(), (err: unknown) => subscriber.error(err))
        .finally(() => {
          this.#running.delete(controller);
          request.signal.removeEventListener('abort', forward);
        });
      this.#running.set(controller, done);
      return () => controller.abort();
    });
  }

  /**
   * Starts creating the instance (its work runs on a libuv thread) ahead of the first run, which then connects to it;
   * a failure is the first run's error.
   */
  prepare(): void {
    if (this.#closed || this.#instance) return;
    this.#instance = Promise.resolve().then(() => createDuckDBInstance(':memory:', this.options));
    this.#instance.catch(() => undefined);
  }

  /** Cancels running runs and closes the DuckDB instance. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const controller of this.#running.keys()) controller.abort();
    await Promise.allSettled(this.#running.values());
    const instance = this.#instance;
    this.#instance = undefined;
    // An instance that failed to open (prepared for a run that then failed on it, or never ran) has nothing to close.
    if (instance) await instance.then((i) => i.closeSync(), () => undefined);
  }

  async #connect(): Promise<DuckDBConnection> {
    if (this.#closed) throw adaError(ErrorCode.closed, `The ${this.name} connector is closed`);
    this.#instance ??= createDuckDBInstance(':memory:', this.options);
    const connection = await (await this.#instance).connect();
    for (const sql of this.settings) await connection.run(sql);
    return connection;
  }
}
