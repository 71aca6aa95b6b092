/**
 * A Keboola Storage API client over fetch: token verification, buckets and tables with metadata (for syncs and for
 * the `ada init` wizard), asynchronous table exports, and streaming downloads of exported files and their slices.
 * The token travels only in the `X-StorageApi-Token` header and is masked out of every error message.
 */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { adaError, hasCode } from '../../events/index.ts';
import type { AdaError } from '../../events/index.ts';
import { describeNetworkError, downloadToFile, readExcerpt } from './download.ts';
import { KeboolaErrorCode, redact, safeUrl } from './errors.ts';
import { storeRequest } from './object-store.ts';
import type { ObjectStoreEndpoints, StoreRequest } from './object-store.ts';
import { backoffDelay, DEFAULT_JOB_POLL, DEFAULT_RETRY, nextPollDelay, parseRetryAfter, sleep } from './retry-policy.ts';
import type { JobPollPolicy, RetryPolicy } from './retry-policy.ts';
import { columnMetadataOf } from './storage-api-types.ts';
import type { Bucket, ColumnMetadata, ExportParams, FileDetail, Job, MetadataEntry, SliceManifest, TableDetail, TokenInfo } from './storage-api-types.ts';

/** Exported file formats; Parquet keeps types and needs no CSV parsing, CSV works on every stack. */
export type ExportFormat = 'parquet' | 'csv';

/** How a client talks to one Keboola stack. Everything but `stackUrl` and `token` has a production default. */
export interface KeboolaClientOptions {
  /** e.g. `https://connection.keboola.com`, `https://connection.eu-central-1.keboola.com`. */
  stackUrl: string;
  token: string;
  retry?: Partial<RetryPolicy>;
  jobPoll?: Partial<JobPollPolicy>;
  /** The format to ask exports for; `parquet` falls back to CSV when the stack refuses it. Default `parquet`. */
  exportFormat?: ExportFormat;
  /** Slices downloaded at once. */
  downloadConcurrency?: number;
  /** One Storage API call (not a download) may take this long. */
  requestTimeoutMs?: number;
  /** A download with no byte for this long is retried. */
  stallTimeoutMs?: number;
  /** Fresh file details asked for when download URLs or credentials expire, per file. */
  maxUrlRefreshes?: number;
  objectStoreEndpoints?: ObjectStoreEndpoints;
  fetch?: typeof fetch;
  /** Source of jitter, in [0, 1). */
  random?: () => number;
  /** Other secrets of the configuration, masked like the token in every message (a body may echo any of them). */
  secrets?: readonly string[];
}

/**
 * Storage API calls answer in well under a second; listing the tables of a big project with their metadata can
 * take tens of seconds, so a call gets 2 minutes before it is treated as failed (and retried).
 */
export const REQUEST_TIMEOUT_MS = 120_000;
/** Object stores send the first byte within seconds; two minutes of silence means a dead connection. */
export const STALL_TIMEOUT_MS = 120_000;
/** Four parallel slice downloads saturate a 1 Gbit/s link from S3 without starving DuckDB of CPU for gunzip. */
export const DOWNLOAD_CONCURRENCY = 4;
/** Keboola's URLs live an hour, so one refresh normally suffices; three cover clock skew and slow disks. */
export const MAX_URL_REFRESHES = 3;
/** Job states after which a job will not change. */
const FAILED_JOB_STATES = new Set(['error', 'cancelled', 'terminated']);
const PARQUET_MAGIC = 'PAR1';

/** A downloaded export: its files on disk and how to read them. */
export interface DownloadedExport {
  /** Absolute paths, in manifest order; zero-byte slices are left out. */
  files: string[];
  format: ExportFormat;
  /** True for a single (non-sliced) CSV file, which starts with a header row; slices carry none. */
  header: boolean;
  sliced: boolean;
  /** Bytes received over the wire. */
  bytes: number;
}

/** A finished export job. */
export interface CompletedExport {
  job: Job;
  fileId: string;
  /** The format asked for (Keboola may still have sent CSV; `DownloadedExport.format` says what arrived). */
  requested: ExportFormat;
  cacheHit: boolean;
}

/** A table's detail and the column metadata that applies to it (an alias's comes from its source table). */
export interface TableWithMetadata {
  detail: TableDetail;
  /** The source table's detail for an alias, when the token can read it. */
  source?: TableDetail;
  columnMetadata: ColumnMetadata;
  /** Table metadata: the table's own, then its source's. */
  metadata: MetadataEntry[];
}

/** Progress callbacks of an export. */
export interface ExportProgress {
  onJob?: (job: Job) => void;
}

/** Talks to one Keboola stack with one token. */
export class KeboolaClient {
  readonly stackUrl: string;
  readonly #token: string;
  readonly #retry: RetryPolicy;
  readonly #poll: JobPollPolicy;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;
  readonly #secrets: readonly string[];
  readonly #format: ExportFormat;
  readonly #concurrency: number;
  readonly #requestTimeoutMs: number;
  readonly #stallTimeoutMs: number;
  readonly #maxRefreshes: number;
  readonly #endpoints: ObjectStoreEndpoints;
  /** Set when the stack refused a Parquet export; later exports ask for CSV straight away. */
  #parquetRefused = false;

  constructor(options: KeboolaClientOptions) {
    if (!/^https?:\/\//i.test(options.stackUrl)) throw adaError(KeboolaErrorCode.requestFailed, `The Keboola stack URL must start with https://, got "${options.stackUrl}"`);
    if (!options.token) throw adaError(KeboolaErrorCode.unauthorized, 'The Keboola Storage API token is empty; set data_source.keboola.storage_token');
    this.stackUrl = options.stackUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#poll = { ...DEFAULT_JOB_POLL, ...options.jobPoll };
    this.#fetch = options.fetch ?? fetch;
    this.#random = options.random ?? Math.random;
    this.#secrets = options.secrets ?? [];
    this.#format = options.exportFormat ?? 'parquet';
    this.#concurrency = Math.max(1, options.downloadConcurrency ?? DOWNLOAD_CONCURRENCY);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.#stallTimeoutMs = options.stallTimeoutMs ?? STALL_TIMEOUT_MS;
    this.#maxRefreshes = options.maxUrlRefreshes ?? MAX_URL_REFRESHES;
    this.#endpoints = options.objectStoreEndpoints ?? {};
  }

  /** The format exports are asked for now (`csv` after the stack refused Parquet). */
  get exportFormat(): ExportFormat {
    return this.#parquetRefused ? 'csv' : this.#format;
  }

  /** Removes the token (and URL signatures) from text meant for users, logs or events. */
  redact(text: string): string {
    return redact(text, [this.#token, ...this.#secrets]);
  }

  /** `GET /v2/storage/tokens/verify`: who the token is, its project and bucket permissions. */
  async verifyToken(signal?: AbortSignal): Promise<TokenInfo> {
    const token = await this.#api<TokenInfo>('GET', '/v2/storage/tokens/verify', { signal, what: 'verifying the Storage API token' });
    return expectObject(token, 'id', 'token verification');
  }

  /** `GET /v2/storage/buckets`: the buckets the token can read. */
  async listBuckets(signal?: AbortSignal, include: string[] = []): Promise<Bucket[]> {
    const query = include.length > 0 ? { include: include.join(',') } : undefined;
    return expectArray(await this.#api<Bucket[]>('GET', '/v2/storage/buckets', { query, signal, what: 'listing buckets' }), 'bucket list');
  }

  /** `GET /v2/storage/tables?include=columns,metadata,columnMetadata`: every table the token can read, with metadata. */
  async listTables(signal?: AbortSignal, include: string[] = ['columns', 'metadata', 'columnMetadata']): Promise<TableDetail[]> {
    const tables = expectArray(await this.#api<TableDetail[]>('GET', '/v2/storage/tables', { query: { include: include.join(',') }, signal, what: 'listing tables' }), 'table list');
    return tables.map(normaliseTable);
  }

  /** `GET /v2/storage/tables/{id}`: columns, metadata, primary key, sizes and dates of one table. */
  async tableDetail(tableId: string, signal?: AbortSignal): Promise<TableDetail> {
    const detail = await this.#api<TableDetail>('GET', `/v2/storage/tables/${encodeURIComponent(tableId)}`, { signal, what: `reading table ${tableId}` });
    return normaliseTable(expectObject(detail, 'id', `table ${tableId}`));
  }

  /**
   * A table's detail with the metadata that types it. An alias has no column metadata of its own worth having:
   * it takes its source table's (fetched; when the token cannot read the source, the copy embedded in the alias
   * detail), with any of the alias's own entries added.
   */
  async tableWithMetadata(tableId: string, signal?: AbortSignal): Promise<TableWithMetadata> {
    const detail = await this.tableDetail(tableId, signal);
    const own = columnMetadataOf(detail.columnMetadata);
    if (!detail.isAlias || !detail.sourceTable?.id) return { detail, columnMetadata: own, metadata: detail.metadata ?? [] };
    let source: TableDetail | undefined;
    try {
      source = await this.tableDetail(detail.sourceTable.id, signal);
    } catch (err) {
      // A source in another project (a linked bucket) is invisible to this token; the alias detail embeds its metadata.
      if (!hasCode(err, KeboolaErrorCode.notFound) && !hasCode(err, KeboolaErrorCode.forbidden)) throw err;
    }
    const inherited = source ? columnMetadataOf(source.columnMetadata) : columnMetadataOf(detail.sourceTable.columnMetadata);
    const columnMetadata: ColumnMetadata = {};
    for (const name of new Set([...Object.keys(inherited), ...Object.keys(own)])) columnMetadata[name] = [...(inherited[name] ?? []), ...(own[name] ?? [])];
    const result: TableWithMetadata = { detail, columnMetadata, metadata: [...(detail.metadata ?? []), ...(source?.metadata ?? [])] };
    if (source) result.source = source;
    return result;
  }

  /** `POST /v2/storage/tables/{id}/export-async`: starts an export job. */
  async startExport(tableId: string, params: ExportParams, signal?: AbortSignal): Promise<Job> {
    const job = await this.#api<Job>('POST', `/v2/storage/tables/${encodeURIComponent(tableId)}/export-async`, { body: params, signal, what: `starting the export of table ${tableId}` });
    return expectObject(job, 'id', `export job of ${tableId}`);
  }

  /** Polls `GET /v2/storage/jobs/{id}` with growing waits until the job succeeds; a failed job is KEBOOLA_JOB_FAILED. */
  async waitForJob(started: Job, signal?: AbortSignal, onJob?: (job: Job) => void): Promise<Job> {
    const t0 = Date.now();
    let delay = this.#poll.initialDelayMs;
    let job = started;
    for (;;) {
      onJob?.(job);
      if (job.status === 'success') return job;
      if (FAILED_JOB_STATES.has(job.status)) {
        const reason = job.error?.message ?? `the job ended in state ${job.status}`;
        throw adaError(KeboolaErrorCode.jobFailed, this.redact(`Keboola job ${job.id}${job.tableId ? ` (export of ${job.tableId})` : ''} failed: ${reason}`), {
          jobId: String(job.id), tableId: job.tableId, keboolaCode: job.error?.code, exceptionId: job.error?.exceptionId,
        });
      }
      if (Date.now() - t0 + delay > this.#poll.maxWaitMs) {
        throw adaError(KeboolaErrorCode.jobTimeout, `Keboola job ${job.id}${job.tableId ? ` (export of ${job.tableId})` : ''} was still ${job.status} after ${formatDuration(Date.now() - t0)}; `
          + 'the project\'s job queue may be busy — see the job in Keboola, then sync again', { jobId: String(job.id), status: job.status });
      }
      await this.#sleep(delay, signal);
      delay = nextPollDelay(delay, this.#poll);
      job = expectObject(await this.#api<Job>('GET', `/v2/storage/jobs/${encodeURIComponent(String(job.id))}`, { signal, what: `polling job ${job.id}` }), 'id', `job ${job.id}`);
    }
  }

  /**
   * Exports a table into a file: starts the job in the preferred format and waits for it. When the stack refuses
   * Parquet (a 400/422 for the request, or a job failing over the file type) the export is asked again as gzipped
   * CSV, and later exports of this client ask for CSV straight away.
   */
  async exportTable(tableId: string, params: Omit<ExportParams, 'fileType' | 'gzip'>, signal?: AbortSignal, progress: ExportProgress = {}): Promise<CompletedExport> {
    const requested = this.exportFormat;
    const body: ExportParams = requested === 'parquet' ? { ...params, fileType: 'parquet' } : { ...params, gzip: true };
    let job: Job;
    try {
      job = await this.startExport(tableId, body, signal);
      job = await this.waitForJob(job, signal, progress.onJob);
    } catch (err) {
      if (requested !== 'parquet' || !refusesParquet(err)) throw err;
      this.#parquetRefused = true;
      try {
        return await this.exportTable(tableId, params, signal, progress);
      } catch (csvErr) {
        // Refused as CSV too: the request itself was wrong, not the file type.
        if (hasCode(csvErr, KeboolaErrorCode.requestFailed) || hasCode(csvErr, KeboolaErrorCode.jobFailed)) this.#parquetRefused = false;
        throw csvErr;
      }
    }
    const fileId = job.results?.file?.id;
    if (fileId === undefined || fileId === null) {
      throw adaError(KeboolaErrorCode.badResponse, `Keboola job ${job.id} (export of ${tableId}) succeeded but names no file in its results`, { jobId: String(job.id) });
    }
    return { job, fileId: String(fileId), requested, cacheHit: job.results?.cacheHit === true };
  }

  /** `GET /v2/storage/files/{id}?federationToken=1`: a fresh download URL, and for sliced files the cloud credentials. */
  async fileDetail(fileId: string, signal?: AbortSignal): Promise<FileDetail> {
    const detail = await this.#api<FileDetail>('GET', `/v2/storage/files/${encodeURIComponent(fileId)}`, { query: { federationToken: '1' }, signal, what: `reading file ${fileId}` });
    expectObject(detail, 'id', `file ${fileId}`);
    if (typeof detail.url !== 'string') throw adaError(KeboolaErrorCode.badResponse, `Keboola file ${fileId} has no download URL`, { fileId });
    return detail;
  }

  /**
   * Downloads an exported file into `dir`: one file, or every slice of a sliced file (in parallel), each streamed
   * to disk and inflated when gzipped. Expired URLs or credentials (400/401/403 from the store) are refreshed by
   * asking for the file detail again; transient failures are retried with backoff.
   */
  async downloadFile(fileId: string, dir: string, signal?: AbortSignal, onBytes?: (bytes: number) => void): Promise<DownloadedExport> {
    await mkdir(dir, { recursive: true });
    // One slice failing stops the others: nothing may still write into `dir` once this returns.
    const inner = new AbortController();
    const onAbort = (): void => inner.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const file = new FileSource({
      fileId,
      fileDetail: () => this.fileDetail(fileId, inner.signal),
      manifest: (detail) => this.manifest(detail, inner.signal),
      storeRequest: (entry, detail) => storeRequest(entry, detail, this.#endpoints),
      maxRefreshes: this.#maxRefreshes,
      redact: (text) => this.redact(text),
    });
    let targets: string[] = [];
    try {
      await file.load();
      const entries = file.entries;
      targets = entries.map((_e, i) => path.join(dir, `slice-${String(i + 1).padStart(5, '0')}`));
      let bytes = 0;
      const sizes: number[] = new Array<number>(entries.length).fill(0);
      let next = 0;
      let firstError: unknown;
      const worker = async (): Promise<void> => {
        for (;;) {
          const index = next++;
          if (index >= entries.length || inner.signal.aborted) return;
          try {
            sizes[index] = await this.#downloadEntry(file, index, targets[index] as string, inner.signal, (n) => {
              bytes += n;
              onBytes?.(n);
            });
          } catch (err) {
            firstError ??= err;
            inner.abort(err);
            return;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, entries.length) }, worker));
      if (firstError !== undefined) throw signal?.aborted ? this.#cancelled(firstError) : firstError;
      const present = targets.filter((_t, i) => (sizes[i] ?? 0) > 0);
      const format = present.length > 0 && await startsWith(present[0] as string, PARQUET_MAGIC) ? 'parquet' : 'csv';
      const files: string[] = [];
      for (const target of present) {
        const final = `${target}.${format}`;
        await rename(target, final);
        files.push(final);
      }
      return { files, format, header: !file.sliced && format === 'csv', sliced: file.sliced, bytes };
    } catch (err) {
      await Promise.all(targets.map((t) => rm(t, { force: true })));
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Downloads entry `index` of `file` into `target`; returns the bytes written. */
  async #downloadEntry(file: FileSource, index: number, target: string, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<number> {
    const t0 = Date.now();
    for (let attempt = 1; ; attempt++) {
      const generation = file.generation;
      const request = file.request(index);
      try {
        const result = await downloadToFile(request, target, { signal: signal ?? new AbortController().signal, stallTimeoutMs: this.#stallTimeoutMs, fetch: this.#fetch, onBytes, redact: (text) => this.redact(text) });
        return result.written;
      } catch (err) {
        if (signal?.aborted) throw this.#cancelled(err);
        const details = (err as AdaError).details ?? {};
        if (details.refresh === true) {
          await file.refresh(generation, err);
          continue;
        }
        if (details.retryable !== true) throw this.#redacted(err);
        await this.#backoff(attempt, t0, details.retryAfterMs as number | undefined, (err as Error).message, signal);
      }
    }
  }

  /** Fetches a sliced file's manifest (pre-signed, no token); retried like a download. */
  async manifest(file: FileDetail, signal?: AbortSignal): Promise<SliceManifest> {
    const t0 = Date.now();
    for (let attempt = 1; ; attempt++) {
      let retryAfterMs: number | undefined;
      let message: string;
      try {
        const res = await this.#fetch(file.url, { signal: this.#requestSignal(signal), redirect: 'follow' });
        if (res.ok) {
          const text = await res.text();
          const manifest = parseManifest(text);
          if (manifest) return manifest;
          message = `the manifest of file ${file.id} is not JSON with "entries"`;
        } else {
          const body = await readExcerpt(res, (text) => this.redact(text));
          if (res.status === 400 || res.status === 401 || res.status === 403) {
            throw adaError(KeboolaErrorCode.downloadFailed, `Downloading the manifest of file ${file.id} failed with HTTP ${res.status}: ${body}`, { refresh: true, status: res.status });
          }
          if (res.status !== 429 && res.status < 500) {
            throw adaError(KeboolaErrorCode.downloadFailed, `Downloading the manifest of file ${file.id} (${safeUrl(file.url)}) failed with HTTP ${res.status}: ${body}`, { status: res.status });
          }
          retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
          message = `HTTP ${res.status}: ${body}`;
        }
      } catch (err) {
        if (signal?.aborted) throw this.#cancelled(err);
        if (hasCode(err, KeboolaErrorCode.downloadFailed)) throw this.#redacted(err);
        message = describeNetworkError(err);
      }
      await this.#backoff(attempt, t0, retryAfterMs, `Downloading the manifest of file ${file.id}: ${message}`, signal);
    }
  }

  /** One Storage API call with retries on 429, 5xx and network errors. */
  async #api<T>(method: 'GET' | 'POST', apiPath: string, options: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal | undefined; what: string }): Promise<T> {
    const url = new URL(`${this.stackUrl}${apiPath}`);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { 'X-StorageApi-Token': this.#token, accept: 'application/json', 'user-agent': 'ada-keboola-connector' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const t0 = Date.now();
    for (let attempt = 1; ; attempt++) {
      let message: string;
      let retryAfterMs: number | undefined;
      try {
        const res = await this.#fetch(url, {
          method, headers, signal: this.#requestSignal(options.signal),
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        });
        if (res.ok) {
          const text = await res.text();
          try {
            return JSON.parse(text) as T;
          } catch {
            message = `HTTP ${res.status} with a body that is not JSON (${text.length} bytes)`;
          }
        } else {
          const body = await readExcerpt(res, (text) => this.redact(text));
          const reason = keboolaMessage(body);
          if (res.status !== 429 && res.status < 500) throw this.#statusError(res.status, reason, options.what);
          retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
          message = `HTTP ${res.status}${reason ? `: ${reason}` : ''}`;
        }
      } catch (err) {
        if (options.signal?.aborted) throw this.#cancelled(err);
        if (hasCode(err, KeboolaErrorCode.unauthorized) || hasCode(err, KeboolaErrorCode.forbidden) || hasCode(err, KeboolaErrorCode.notFound) || hasCode(err, KeboolaErrorCode.requestFailed)) throw err;
        message = isTimeout(err) ? `no answer within ${Math.round(this.#requestTimeoutMs / 1000)} s` : describeNetworkError(err);
      }
      await this.#backoff(attempt, t0, retryAfterMs, `${capitalise(options.what)} at ${this.stackUrl}: ${message}`, options.signal);
    }
  }

  /** Waits before retry `attempt`, or throws KEBOOLA_UNAVAILABLE when attempts or the time budget are spent. */
  async #backoff(attempt: number, t0: number, retryAfterMs: number | undefined, message: string, signal: AbortSignal | undefined): Promise<void> {
    const policy = this.#retry;
    const elapsed = Date.now() - t0;
    if (attempt >= policy.maxAttempts) {
      throw adaError(KeboolaErrorCode.unavailable, this.redact(`${message} (gave up after ${attempt} attempts in ${formatDuration(elapsed)})`), { attempts: attempt });
    }
    const wait = retryAfterMs ?? backoffDelay(attempt, policy, this.#random);
    if (elapsed + wait > policy.maxTotalMs) {
      const why = retryAfterMs !== undefined ? `Keboola asked to retry after ${formatDuration(retryAfterMs)}, past the retry budget of ${formatDuration(policy.maxTotalMs)}` : `the retry budget of ${formatDuration(policy.maxTotalMs)} is spent`;
      throw adaError(KeboolaErrorCode.unavailable, this.redact(`${message} (${why}; ${attempt} attempt${attempt === 1 ? '' : 's'})`), { attempts: attempt });
    }
    await this.#sleep(wait, signal);
  }

  async #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(ms, signal);
    } catch (err) {
      throw this.#cancelled(err);
    }
  }

  #requestSignal(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.#requestTimeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  #statusError(status: number, reason: string, what: string): AdaError {
    const at = `${capitalise(what)} at ${this.stackUrl}`;
    const text = reason ? `: ${reason}` : '';
    switch (status) {
      case 401:
        return adaError(KeboolaErrorCode.unauthorized, this.redact(`${at} was refused (HTTP 401${text}); check data_source.keboola.storage_token and stack_url`), { status });
      case 403:
        return adaError(KeboolaErrorCode.forbidden, this.redact(`${at} was forbidden (HTTP 403${text}); the token needs read access to the bucket`), { status });
      case 404:
        return adaError(KeboolaErrorCode.notFound, this.redact(`${at} failed: not found (HTTP 404${text}); check the table id, or whether the token can see it`), { status });
      default:
        return adaError(KeboolaErrorCode.requestFailed, this.redact(`${at} failed (HTTP ${status}${text})`), { status });
    }
  }

  #cancelled(cause: unknown): AdaError {
    return adaError(KeboolaErrorCode.cancelled, 'The Keboola request was cancelled', {}, cause);
  }

  /** The same error with the token masked out of its message. */
  #redacted(err: unknown): unknown {
    if (err instanceof Error) err.message = this.redact(err.message);
    return err;
  }

}

/** What a FileSource needs from the client. */
interface FileSourceDeps {
  fileId: string;
  fileDetail: () => Promise<FileDetail>;
  manifest: (detail: FileDetail) => Promise<SliceManifest>;
  storeRequest: (entry: string, detail: FileDetail) => StoreRequest;
  maxRefreshes: number;
  redact: (text: string) => string;
}

/**
 * A file being downloaded: its current detail and slice URLs. When a URL or its credentials expire, one fresh
 * detail (and manifest) is fetched for all slices in flight: `generation` tells a slice whether someone else already did.
 */
class FileSource {
  detail!: FileDetail;
  entries: string[] = [];
  generation = 0;
  #refreshes = 0;
  #refreshing: Promise<void> | undefined;

  constructor(private readonly deps: FileSourceDeps) {}

  get sliced(): boolean {
    return this.detail.isSliced === true;
  }

  async load(): Promise<void> {
    for (;;) {
      const detail = await this.deps.fileDetail();
      try {
        this.entries = detail.isSliced ? (await this.deps.manifest(detail)).entries.map((e) => e.url) : [detail.url];
        this.detail = detail;
        this.generation++;
        return;
      } catch (err) {
        if (!(err as AdaError).details?.refresh) throw err;
        this.#count(err);
      }
    }
  }

  request(index: number): StoreRequest {
    const entry = this.entries[index] as string;
    return this.sliced ? this.deps.storeRequest(entry, this.detail) : { url: entry, headers: {} };
  }

  /** Fetches a fresh detail unless another slice did since `seen`; fails when the refreshes are spent. */
  async refresh(seen: number, cause: unknown): Promise<void> {
    if (this.generation !== seen) return;
    this.#refreshing ??= (async () => {
      try {
        this.#count(cause);
        await this.load();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    await this.#refreshing;
  }

  #count(cause: unknown): void {
    this.#refreshes++;
    const { maxRefreshes, fileId } = this.deps;
    if (this.#refreshes > maxRefreshes) {
      const last = cause instanceof Error ? cause.message : String(cause);
      throw adaError(KeboolaErrorCode.downloadFailed, this.deps.redact(`The download URLs of Keboola file ${fileId} kept being refused after ${maxRefreshes} fresh file details (last: ${last}); `
        + 'check the machine\'s clock and that the token may read files'), { fileId, refreshes: this.#refreshes - 1 });
    }
  }
}

/** Keboola's JSON errors say `{"error": "…", "code": "…"}`; anything else is quoted as is. */
function keboolaMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON.
  }
  return body;
}

/** A refusal that a CSV export would not get: the request (400/422) or the job rejecting the file type. */
function refusesParquet(err: unknown): boolean {
  if (hasCode(err, KeboolaErrorCode.requestFailed)) {
    const status = (err as AdaError).details.status;
    return status === 400 || status === 422;
  }
  return hasCode(err, KeboolaErrorCode.jobFailed) && /parquet|file\s*type/i.test((err as Error).message);
}

function parseManifest(text: string): SliceManifest | undefined {
  try {
    const parsed = JSON.parse(text) as SliceManifest;
    if (!Array.isArray(parsed.entries) || !parsed.entries.every((e) => typeof e?.url === 'string')) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

/** Keboola ships `columns` with `include=columns` only; a detail always has them. */
function normaliseTable(table: TableDetail): TableDetail {
  return { ...table, columns: Array.isArray(table.columns) ? table.columns : [], primaryKey: Array.isArray(table.primaryKey) ? table.primaryKey : [] };
}

function expectObject<T>(value: T, key: string, what: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !(key in value)) {
    throw adaError(KeboolaErrorCode.badResponse, `Keboola's answer for ${what} is not the documented JSON object (no "${key}")`);
  }
  return value;
}

function expectArray<T>(value: T[], what: string): T[] {
  if (!Array.isArray(value)) throw adaError(KeboolaErrorCode.badResponse, `Keboola's answer for the ${what} is not a JSON array`);
  return value;
}

async function startsWith(file: string, magic: string): Promise<boolean> {
  if ((await stat(file)).size < magic.length) return false;
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(magic.length);
    await handle.read(buffer, 0, magic.length, 0);
    return buffer.toString('latin1') === magic;
  } finally {
    await handle.close();
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'TimeoutError';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 60_000)} min`;
}
