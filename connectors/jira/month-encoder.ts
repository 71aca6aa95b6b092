/**
 * Encodes month files in a worker thread. Arrow vectors and parquet-wasm take tens of milliseconds per month, all
 * synchronous: on the main thread every webhook answer due meanwhile waited for them.
 */
import { Worker } from 'node:worker_threads';
import { encodeMonth } from './parquet-month.ts';
import type { WrittenFile } from './parquet-month.ts';
import { MonthRows } from './month-rows.ts';
import type { EncodedTable, MonthChanges } from './month-rows.ts';
import { JIRA_TABLES } from './tables.ts';
import { threadSource } from './thread-source.ts';
import type { IssueRows, JiraTable, Row } from './tables.ts';

/** One month of one table to encode, or a month's changes (see `MonthRows`). */
export type EncodeRequest = { id: number } & ({ kind: 'table'; table: JiraTable; rows: readonly Row[] } | ({ kind: 'month' } & MonthChanges));

/** The worker's answer: the file's bytes and checksum, a month's tables, `missing` (send it whole), or why it failed. */
export type EncodeReply = { id: number } & ((WrittenFile & { data: Uint8Array }) | { tables: EncodedTable[] } | { missing: true } | { error: string });

/** A month file encoded: its bytes, and the size and checksum it will be published with. */
export type EncodedMonth = WrittenFile & { data: Uint8Array };

/** Sends months to one worker thread, which encodes them one after another; the thread is started on first use. */
export class MonthEncoder {
  private worker?: Worker;
  /** Set when the worker could not run: months are then encoded on the calling thread, as before. */
  private inline = false;
  private nextId = 1;

  /** Why the worker stopped, once it did. */
  failure?: string;

  /** False once the worker failed and months are encoded on the calling thread. */
  get threaded(): boolean {
    return !this.inline;
  }

  private readonly waiting = new Map<number, { req: EncodeRequest; here(): unknown; resolve(reply: EncodeReply): void; reject(err: Error): void }>();

  /** Rows of the months this thread encodes once the worker failed. */
  private readonly inlineRows = new MonthRows();

  /** Parquet bytes and checksum of one month of `table`. */
  async encode(table: JiraTable, rows: readonly Row[]): Promise<EncodedMonth> {
    const here = (): EncodedMonth => encodeMonth(JIRA_TABLES[table], rows);
    if (this.inline) return here();
    const reply = await this.post({ id: this.nextId++, kind: 'table', table, rows }, here);
    if (!('data' in reply)) throw new Error(`encoding a month of ${table}: no bytes in the answer`);
    return reply;
  }

  /**
   * Applies a month's changes to the rows the encoding thread keeps of it and encodes `tables` of it. `whole()`
   * lists every issue of the month: it is sent when the thread does not hold the month (first use, dropped,
   * `reset`, or the thread failed and this one took over).
   */
  async month(changes: MonthChanges, whole: () => Array<[string, IssueRows]>): Promise<EncodedTable[]> {
    const full = (): MonthChanges => ({ ...changes, reset: true, changes: whole() });
    const here = (): EncodedTable[] => {
      const out = this.inlineRows.apply(changes);
      return out === 'missing' ? this.inlineRows.apply(full()) as EncodedTable[] : out;
    };
    if (this.inline) return here();
    let reply = await this.post({ id: this.nextId++, kind: 'month', ...changes }, here);
    if ('missing' in reply) reply = await this.post({ id: this.nextId++, kind: 'month', ...full() }, () => this.inlineRows.apply(full()));
    if (!('tables' in reply)) throw new Error(`encoding month ${changes.month}: no tables in the answer`);
    return reply.tables;
  }

  /** Forgets the rows kept of months whose id starts with `prefix` (a rebuild deletes them). */
  forget(prefix: string): void {
    this.inlineRows.forget(prefix);
    if (this.worker) this.worker.postMessage({ kind: 'forget', prefix });
  }

  /** Sends `req` to the worker; `here` does the same work on this thread if the worker stops before answering. */
  private post<T>(req: EncodeRequest, here: () => T): Promise<EncodeReply> {
    return new Promise<EncodeReply>((resolve, reject) => {
      const worker = this.start();
      this.waiting.set(req.id, { req, here, resolve, reject });
      // A thread with work keeps the process alive; an idle one does not.
      worker.ref();
      worker.postMessage(req);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const { code, workerData } = threadSource('month-encoder-worker', import.meta.url);
    const worker = new Worker(code, { eval: true, workerData });
    worker.unref();
    worker.on('message', (reply: EncodeReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if ('error' in reply) w.reject(new Error(`encoding ${w.req.kind === 'table' ? `a month of ${w.req.table}` : `month ${w.req.month}`}: ${reply.error}`));
      else w.resolve(reply);
    });
    const fail = (err?: unknown): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.inline = true;
      this.failure = err instanceof Error ? err.message : 'the thread exited';
      // What the worker had not answered is encoded here: a broken worker costs latency, never a month.
      const left = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of left) {
        try {
          const out = w.here();
          w.resolve((Array.isArray(out) ? { id: w.req.id, tables: out } : { id: w.req.id, ...(out as EncodedMonth) }) as EncodeReply);
        } catch (err) {
          w.reject(err as Error);
        }
      }
    };
    worker.on('error', fail);
    worker.on('exit', () => fail());
    this.worker = worker;
    return worker;
  }
}
