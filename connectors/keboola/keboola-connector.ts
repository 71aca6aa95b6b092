/**
 * The Keboola connector: exports a table through the Storage API (one export per window), streams the exported
 * file or slices to disk, and lets DuckDB turn each export into one typed Parquet chunk.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Observable } from 'rxjs';
import { DuckDbRuns } from '../../pipeline/index.ts';
import type { TableConfig } from '../../config/index.ts';
import type { ColumnSchema, StoredBlob } from '../../events/index.ts';
import { adaError, ErrorCode, hasCode } from '../../events/index.ts';
import type { Connector, ConnectorEvent, SyncRequest } from '../../pipeline/index.ts';
import type { PublishedType } from '../../pipeline/index.ts';
import { quoteLiteral } from '../../pipeline/index.ts';
import { KeboolaClient } from './client.ts';
import type { CompletedExport, DownloadedExport, KeboolaClientOptions, TableWithMetadata } from './client.ts';
import { KeboolaErrorCode } from './errors.ts';
import { exportFilters, planExports } from './export-plan.ts';
import type { ExportWindow } from './export-plan.ts';
import { diskFullError, hashWhileWritten, V2_COPY_OPTIONS } from '../../pipeline/index.ts';
import { csvSelectSql, emptySelectSql, isNativeConversionError, parquetSelectSql, parseCastFailure } from './slices-sql.ts';
import { metadataColumns, planColumns, tableDescription } from './table-schema.ts';
import type { PlannedColumn } from './table-schema.ts';

/** A header line longer than this is not a header: Keboola column names are at most 64 characters each. */
const MAX_HEADER_BYTES = 1024 * 1024;
/** Longest value quoted back in an error message. */
const MAX_VALUE_IN_MESSAGE = 80;

/**
 * How long a table's detail fetched by prepare() serves its run (ms). A run starts within milliseconds of prepare()
 * unless the sync runs tables of another source first; a detail older than this is fetched again.
 */
const DETAIL_AHEAD_TTL_MS = 10_000;

/** The detail of a sync's first table, fetched while the bus recovers and records the run's start. */
interface DetailAhead {
  tableId: string;
  startedAt: number;
  controller: AbortController;
  detail: Promise<TableWithMetadata>;
}

/** Options of a connector: the client's, plus DuckDB's memory limit for the conversions. */
export interface KeboolaConnectorOptions extends KeboolaClientOptions {
  /** DuckDB `memory_limit` (e.g. `1GB`); DuckDB's default (80 % of RAM) when absent. */
  memoryLimit?: string;
}

/** What one export of a run fetched, for the `complete` event's metadata. */
interface ExportRecord {
  jobId: string;
  fileId: string;
  changedSince?: string;
  changedUntil?: string;
  requested: string;
  format: string;
  cacheHit: boolean;
  files: number;
  bytes: number;
  rows: number;
}

/** Syncs tables of one Keboola project. One in-memory DuckDB instance serves all runs. */
export class KeboolaConnector implements Connector {
  readonly source = 'keboola';
  readonly client: KeboolaClient;
  /** Tables whose CSV the reader's native parsing refused (zero dates, odd numbers): later runs read them as text at once. */
  readonly #textOnly = new Set<string>();
  readonly #runs: DuckDbRuns;
  #ahead: DetailAhead | undefined;
  #closed = false;

  constructor(options: KeboolaConnectorOptions) {
    this.client = new KeboolaClient(options);
    // A Keboola export has no row order to keep (Snowflake unloads in parallel), and keeping DuckDB's read order made
    // the COPY of a 10M-row export peak at 1.3 GB instead of 0.45 GB, even under a memory limit.
    // TIMESTAMP_TZ text without an offset is UTC.
    this.#runs = new DuckDbRuns('Keboola', ['SET preserve_insertion_order = false', "SET TimeZone = 'UTC'"],
      options.memoryLimit ? { memory_limit: options.memoryLimit } : {});
  }

  /** A cold Observable: each subscription runs the table once; unsubscribing or aborting `request.signal` cancels it. */
  sync(request: SyncRequest): Observable<ConnectorEvent> {
    const detail = (tableId: string, signal: AbortSignal): Promise<TableWithMetadata> => this.#tableWithMetadata(tableId, signal);
    return this.#runs.run$(request, (connection, signal, emit) => new TableRun(this.client, request, signal, emit, this.#textOnly, detail).execute(connection));
  }

  /**
   * Starts creating the DuckDB instance of the coming runs and fetching the first table's detail: the first request of
   * a process also sets up the HTTP client (some 60–80 ms on a 2-core machine, where the next request takes 5 ms).
   */
  prepare(tables: readonly TableConfig[] = []): void {
    this.#runs.prepare();
    this.#ahead?.controller.abort();
    this.#ahead = undefined;
    const first = tables[0];
    if (!first || this.#closed) return;
    const controller = new AbortController();
    const detail = this.client.tableWithMetadata(first.id, controller.signal);
    detail.catch(() => undefined);
    this.#ahead = { tableId: first.id, startedAt: Date.now(), controller, detail };
  }

  /** Cancels running syncs and closes the DuckDB instance. */
  close(): Promise<void> {
    this.#closed = true;
    this.#ahead?.controller.abort();
    this.#ahead = undefined;
    return this.#runs.close();
  }

  /**
   * A table's detail with its metadata: the one prepare() fetched (or its failure) when it is this table's and recent,
   * else a fresh one.
   */
  async #tableWithMetadata(tableId: string, signal: AbortSignal): Promise<TableWithMetadata> {
    const ahead = this.#ahead;
    this.#ahead = undefined;
    if (ahead && ahead.tableId === tableId && Date.now() - ahead.startedAt <= DETAIL_AHEAD_TTL_MS) {
      const onAbort = (): void => ahead.controller.abort(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await ahead.detail;
      } catch (err) {
        // Its failure is the run's (the client retried what was transient), unless it was stopped for another reason.
        if (signal.aborted || !ahead.controller.signal.aborted) throw err;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } else ahead?.controller.abort();
    return this.client.tableWithMetadata(tableId, signal);
  }
}

/** One run of one table. */
class TableRun {
  readonly #table: TableConfig;
  readonly #written: string[] = [];
  #connection: DuckDBConnection | undefined;
  #rows = 0;
  #bytes = 0;

  constructor(
    private readonly client: KeboolaClient,
    private readonly request: SyncRequest,
    private readonly signal: AbortSignal,
    private readonly emit: (event: ConnectorEvent) => void,
    private readonly textOnly: Set<string>,
    private readonly tableWithMetadata: (tableId: string, signal: AbortSignal) => Promise<TableWithMetadata>,
  ) {
    this.#table = request.table;
  }

  async execute(connection: DuckDBConnection): Promise<void> {
    this.#connection = connection;
    const interrupt = (): void => connection.interrupt();
    this.signal.addEventListener('abort', interrupt, { once: true });
    try {
      await this.#run();
    } catch (err) {
      await Promise.all(this.#written.splice(0).map((p) => rm(p, { force: true })));
      if (this.signal.aborted && !hasCode(err, ErrorCode.configInvalid)) throw this.#cancelled(err);
      if (err instanceof Error) err.message = this.client.redact(err.message);
      throw err;
    } finally {
      this.signal.removeEventListener('abort', interrupt);
      connection.closeSync();
    }
  }

  async #run(): Promise<void> {
    const table = this.#table;
    this.#progress(`${table.id}: reading the table and its metadata`);
    const keboola = await this.tableWithMetadata(table.id, this.signal);
    const plan = planColumns(table, keboola);
    const allTypes = new Map<string, PublishedType>(metadataColumns(keboola).map((c) => [c.name, c.type]));
    for (const c of plan) allTypes.set(c.name, c.type);
    const filters = exportFilters(table, this.request.now, allTypes);
    const exportPlan = planExports(table, this.request.cursor, this.request.now);
    if (table.syncStrategy === 'incremental' && table.primaryKey.length === 0) {
      const theirs = keboola.detail.primaryKey.length > 0 ? ` (Keboola's primary key is ${keboola.detail.primaryKey.join(', ')})` : '';
      this.#progress(`${table.id}: warning: incremental without primary_key appends changed rows instead of replacing them${theirs}`);
    }
    const columnsParam = table.columns.length > 0 ? plan.map((c) => c.name).join(',') : undefined;
    const schema = schemaOf(plan);
    await mkdir(this.request.workDir, { recursive: true });
    this.#progress(`${table.id}: ${exportPlan.reason}`);
    const exports: ExportRecord[] = [];
    let emitted = 0;
    for (const [index, window] of exportPlan.windows.entries()) {
      this.#checkAborted();
      const label = exportPlan.windows.length > 1 ? ` window ${index + 1}/${exportPlan.windows.length} (${window.changedSince} – ${window.changedUntil})` : '';
      const done = await this.#export(window, columnsParam, filters, label);
      const dir = path.join(this.request.workDir, `export-${String(index + 1).padStart(4, '0')}`);
      let downloaded: DownloadedExport;
      try {
        downloaded = await this.client.downloadFile(done.fileId, dir, this.signal, (n) => {
          this.#bytes += n;
        });
        this.#progress(`${table.id}: downloaded ${downloaded.files.length} ${downloaded.format} file(s)${label}, converting`);
        const chunk = await this.#convert(downloaded, plan, keboola, columnsParam !== undefined, index);
        exports.push(record(done, window, downloaded, chunk.rows));
        this.#rows += chunk.rows;
        const last = index === exportPlan.windows.length - 1;
        if (chunk.rows > 0 || (last && emitted === 0 && exportPlan.mode === 'replace')) {
          this.emit({ kind: 'chunk', path: chunk.path, format: 'parquet', rows: chunk.rows, schema, sourceFile: `keboola:${table.id}${label ? `#${index + 1}` : ''}`, digest: chunk.digest });
          emitted++;
        } else {
          await rm(chunk.path, { force: true });
        }
        this.#progress(`${table.id}: ${chunk.rows.toLocaleString('en-US')} row(s)${label}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    // An export that fetched nothing leaves the cursor where it was: it proves nothing about the source's clock.
    const cursor = this.#rows > 0 ? exportPlan.cursor : this.request.cursor;
    this.emit({ kind: 'complete', mode: exportPlan.mode, cursor, metadata: metadataOf(keboola, plan, exports, exportPlan.reason) });
  }

  /** Runs one export job, reporting its state changes. */
  async #export(window: ExportWindow, columns: string | undefined, filters: ReturnType<typeof exportFilters>, label: string): Promise<CompletedExport> {
    const table = this.#table;
    let lastStatus = '';
    this.#progress(`${table.id}: exporting${label}`);
    return this.client.exportTable(table.id, {
      ...window,
      ...(columns !== undefined ? { columns } : {}),
      ...(filters.length > 0 ? { whereFilters: filters } : {}),
    }, this.signal, {
      onJob: (job) => {
        if (job.status === lastStatus) return;
        lastStatus = job.status;
        this.#progress(`${table.id}: export job ${job.id} ${job.status}${label}`);
      },
    });
  }

  /** COPY one export into a Parquet chunk (through `.partial`, renamed when complete). */
  async #convert(downloaded: DownloadedExport, plan: PlannedColumn[], keboola: TableWithMetadata, columnsRequested: boolean, index: number): Promise<{ path: string; rows: number; digest: StoredBlob }> {
    const final = path.join(this.request.workDir, `chunk-${String(index + 1).padStart(4, '0')}.parquet`);
    const partial = `${final}.partial`;
    // DuckDB writes through `tmp_<name>` when the target exists; both go on failure.
    const duckTemp = path.join(path.dirname(partial), `tmp_${path.basename(partial)}`);
    this.#written.push(partial, duckTemp);
    const copy = async (native: boolean): Promise<{ rows: number; digest: StoredBlob }> => {
      await rm(partial, { force: true });
      const select = await this.#select(downloaded, plan, keboola, columnsRequested, native);
      const copying = this.#db().runAndReadAll(`COPY (${select}) TO ${quoteLiteral(partial)} (${V2_COPY_OPTIONS})`);
      // The chunk is hashed while DuckDB writes it, so the blob store need not read it back after the COPY.
      const digesting = hashWhileWritten(partial, copying);
      digesting.catch(() => undefined);
      try {
        const reader = await copying;
        return { rows: Number(reader.getRows()[0]?.[0] ?? 0), digest: await digesting };
      } catch (err) {
        // The hash stops with the failed COPY; let it close the file before a retry writes the path again.
        await digesting.catch(() => undefined);
        throw err;
      }
    };
    const table = this.#table.id;
    try {
      let written: { rows: number; digest: StoredBlob };
      if (this.textOnly.has(table)) written = await copy(false);
      else {
        try {
          written = await copy(true);
        } catch (err) {
          // The CSV reader refused a value: read the text and convert it in SQL, which maps zero dates and names the culprit.
          if (downloaded.format !== 'csv' || !isNativeConversionError(err instanceof Error ? err.message : String(err))) throw err;
          this.#checkAborted();
          written = await copy(false);
          this.textOnly.add(table);
        }
      }
      await rename(partial, final);
      this.#written.push(final);
      return { path: final, ...written };
    } catch (err) {
      await Promise.all([rm(partial, { force: true }), rm(duckTemp, { force: true })]);
      this.#checkAborted();
      // Compressed export bytes understate the Parquet size, so twice what was downloaded is the estimate.
      const full = await diskFullError(err, {
        path: partial, bytesNeeded: downloaded.bytes * 2,
        outcome: `the export of table ${this.#table.id} was not staged, and the table's published files are unchanged`,
      });
      if (full) throw full;
      throw this.#conversionError(err, plan);
    }
  }

  /** The SELECT reading an export's files into the planned columns. */
  async #select(downloaded: DownloadedExport, plan: PlannedColumn[], keboola: TableWithMetadata, columnsRequested: boolean, native: boolean): Promise<string> {
    const table = this.#table;
    const files = downloaded.files;
    if (files.length === 0) return emptySelectSql(plan);
    let available: string[];
    if (downloaded.format === 'parquet') {
      const described = (await this.#db().runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quoteLiteral(files[0] as string)})`)).getRowObjectsJson();
      const types = new Map(described.map((r) => [String(r.column_name), String(r.column_type)]));
      available = [...types.keys()];
      this.#checkColumns(plan, available, 'Parquet export');
      return parquetSelectSql(files, types, plan);
    }
    // Slices carry no header: their columns are the ones asked for, else the table's, in order.
    available = downloaded.header ? await readHeader(files[0] as string) : columnsRequested ? plan.map((c) => c.name) : keboola.detail.columns;
    if (downloaded.header && available.length === 0) throw adaError(KeboolaErrorCode.badResponse, `The CSV export of table ${table.id} has no header line`, { table: table.id });
    this.#checkColumns(plan, available, 'CSV export');
    return csvSelectSql(files, available, downloaded.header, plan, native);
  }

  #checkColumns(plan: PlannedColumn[], available: string[], what: string): void {
    const missing = plan.filter((c) => !available.includes(c.name)).map((c) => c.name);
    if (missing.length > 0) {
      throw adaError(KeboolaErrorCode.badResponse, `The ${what} of table ${this.#table.id} lacks column${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')} (it has ${available.join(', ')})`, {
        table: this.#table.id, missing,
      });
    }
  }

  /** A DuckDB failure while converting, as an error a user can act on. */
  #conversionError(err: unknown, plan: PlannedColumn[]): Error {
    const message = err instanceof Error ? err.message : String(err);
    const table = this.#table;
    const cast = parseCastFailure(message) ?? nativeCastFailure(message);
    if (cast) {
      const column = plan.find((c) => c.name === cast.column);
      const origin = column?.typeFrom === 'config' ? `declared ${column.sourceType} in ${table.location.file}`
        : column?.sourceType ? `${column.sourceType} from ${column.typeFrom}${column.provider ? ` by provider ${column.provider}` : ''}` : 'default';
      const value = cast.value.length > MAX_VALUE_IN_MESSAGE ? `${cast.value.slice(0, MAX_VALUE_IN_MESSAGE)}…` : cast.value;
      return adaError(KeboolaErrorCode.typeMismatch, `Table ${table.id}, column "${cast.column}": ${JSON.stringify(value)} is not a valid ${cast.type} (type ${origin}); `
        + 'correct the column\'s type metadata in Keboola or declare its type under `columns` in the table definition', { table: table.id, column: cast.column, value, type: cast.type }, err);
    }
    const summary = (message.split('\n')[0] ?? message).trim();
    return adaError(KeboolaErrorCode.badResponse, `Converting the Keboola export of table ${table.id} to Parquet failed: ${summary}`, { table: table.id }, err);
  }

  #db(): DuckDBConnection {
    if (!this.#connection) throw adaError(ErrorCode.closed, 'No DuckDB connection');
    return this.#connection;
  }

  #progress(message: string): void {
    this.emit({ kind: 'progress', rows: this.#rows, bytes: this.#bytes, message: this.client.redact(message) });
  }

  #checkAborted(): void {
    if (this.signal.aborted) throw this.#cancelled(this.signal.reason);
  }

  #cancelled(cause: unknown): Error {
    return adaError(KeboolaErrorCode.cancelled, `The Keboola sync of table ${this.#table.id} was cancelled`, { table: this.#table.id }, cause);
  }
}

/** The chunk schema: published names, types and descriptions. */
function schemaOf(plan: PlannedColumn[]): ColumnSchema[] {
  return plan.map((c) => (c.description !== undefined ? { name: c.name, type: c.type, description: c.description } : { name: c.name, type: c.type }));
}

function record(done: CompletedExport, window: ExportWindow, downloaded: DownloadedExport, rows: number): ExportRecord {
  const out: ExportRecord = {
    jobId: String(done.job.id), fileId: done.fileId, requested: done.requested, format: downloaded.format,
    cacheHit: done.cacheHit, files: downloaded.files.length, bytes: downloaded.bytes, rows,
  };
  if (window.changedSince !== undefined) out.changedSince = window.changedSince;
  if (window.changedUntil !== undefined) out.changedUntil = window.changedUntil;
  return out;
}

/** What the catalog and health learn about the table: Keboola's own figures and descriptions, and what was exported. */
function metadataOf(keboola: TableWithMetadata, plan: PlannedColumn[], exports: ExportRecord[], strategy: string): Record<string, unknown> {
  const { detail, source } = keboola;
  const pick = <K extends 'rowsCount' | 'dataSizeBytes' | 'lastImportDate' | 'lastChangeDate'>(key: K) => detail[key] ?? source?.[key] ?? null;
  const metadata: Record<string, unknown> = {
    source: 'keboola',
    tableId: detail.id,
    isAlias: detail.isAlias === true,
    primaryKey: detail.primaryKey,
    rowsCount: pick('rowsCount'),
    dataSizeBytes: pick('dataSizeBytes'),
    lastImportDate: pick('lastImportDate'),
    lastChangeDate: pick('lastChangeDate'),
    columns: plan.map((c) => ({
      name: c.name, type: c.type, typeFrom: c.typeFrom,
      ...(c.sourceType !== undefined ? { sourceType: c.sourceType } : {}),
      ...(c.provider !== undefined ? { provider: c.provider } : {}),
      ...(c.description !== undefined ? { description: c.description } : {}),
    })),
    strategy,
    exports,
  };
  const description = tableDescription(keboola);
  if (description !== undefined) metadata.description = description;
  if (detail.isAlias && detail.sourceTable?.id) metadata.sourceTableId = detail.sourceTable.id;
  return metadata;
}

/** DuckDB's own cast errors: the CSV reader names the column, a Parquet CAST only the value and type. */
function nativeCastFailure(message: string): { type: string; column: string; value: string } | undefined {
  const reader = /Error when converting column "(.*)"\. Could not convert string "(.*)" to '([A-Z_ ]+)'/.exec(message);
  if (reader) return { column: reader[1] as string, value: reader[2] as string, type: reader[3] as string };
  const m = /Could not convert string '(.*)' to ([A-Z_]+)/.exec(message);
  return m ? { value: m[1] as string, type: m[2] as string, column: '?' } : undefined;
}

/** The column names of a CSV file's header line (RFC 4180: quoted or bare fields, `""` inside quotes). */
export async function readHeader(file: string): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_HEADER_BYTES, 0);
    return parseHeaderLine(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

/** Splits the first record of CSV text into fields. */
export function parseHeaderLine(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') break;
    else field += ch;
  }
  if (field !== '' || fields.length > 0) fields.push(field);
  return fields;
}
