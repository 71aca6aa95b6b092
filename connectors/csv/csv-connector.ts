/** The CSV connector: stages each matched CSV file of a table as a Parquet chunk via DuckDB, with a per-file cursor for incremental runs. */
import { mkdir, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Observable } from 'rxjs';
import { DuckDbRuns } from '../../pipeline/index.ts';
import type { AdaConfig, TableConfig } from '../../config/index.ts';
import { csvConfig } from './csv-config.ts';
import { csvSetup } from './setup.ts';
import type { ColumnSchema, StoredBlob } from '../../events/index.ts';
import { adaError, ErrorCode, hasCode } from '../../events/index.ts';
import type { Connector, ConnectorEvent, ConnectorModule, SyncRequest } from '../../pipeline/index.ts';
import { normaliseDuckType } from '../../pipeline/index.ts';
import { quoteIdentifier, quoteLiteral, whereFiltersToSql } from '../../pipeline/index.ts';
import { diskFullError, hashWhileWritten, V2_COPY_OPTIONS } from '../../pipeline/index.ts';
import type { CsvDialect } from './csv-dialect.ts';
import { csvDialect, dialectSql } from './csv-dialect.ts';
import type { PlannedFile } from './csv-cursor.ts';
import { cursorOf, parseCsvCursor, planFiles } from './csv-cursor.ts';
import { locateBadRowSql, readCsvSql, scanAllTextSql, selectFileSql, ZERO_DATES } from './csv-read-sql.ts';
import type { ColumnPlan, DetectedColumn, FileShape } from './csv-schema.ts';
import { columnNames, declaredColumns, declaredSchema, detectedSchema, detectedType, needsDetection, TYPE_CANDIDATES } from './csv-schema.ts';
import type { DuckCsvError } from './duckdb-csv-error.ts';
import { parseDuckCsvError } from './duckdb-csv-error.ts';
import { readFirstRecord } from './first-record.ts';
import { physicalLineOfRecord } from './record-line.ts';
import { scanRecords } from './record-scan.ts';
import { CsvErrorCode } from './errors.ts';
import { CSV_INVALID, resolveTableFiles } from './table-files.ts';
import type { TableFile } from './table-files.ts';

/** Error code of a read that failed for a reason other than the file's content (DuckDB's first message line says which). */
export const CSV_READ_FAILED = CsvErrorCode.readFailed;

/** DuckDB's default sniffer sample (rows); `-1` reads whole files when a sample guessed a type wrong. */
const DEFAULT_SAMPLE = 20480;
const FULL_SAMPLE = -1;
/** Longest value quoted back in an error message. */
const MAX_VALUE_IN_MESSAGE = 80;

/** Registers the CSV source; enabled when `data_source.csv.dir` is configured. */
export const csvConnector: ConnectorModule = {
  type: 'csv',
  config: csvConfig,
  setup: csvSetup,
  docs: 'docs/sync.md#csv-sources',
  enabled: (config: AdaConfig) => Boolean(config.instance.dataSource.csv?.dir),
  create: (config: AdaConfig) => {
    const dir = config.instance.dataSource.csv?.dir;
    if (!dir) throw adaError(ErrorCode.configMissing, 'The CSV source needs data_source.csv.dir in instance.yaml', { field: 'data_source.csv.dir' });
    return new CsvConnector(dir);
  },
};

/** Syncs tables whose `file` names CSV files under one directory. One in-memory DuckDB instance serves all its runs. */
export class CsvConnector implements Connector {
  readonly source = 'csv';
  readonly dir: string;
  // Chunks keep the source's row order; strings without an offset are UTC for TIMESTAMPTZ columns.
  readonly #runs = new DuckDbRuns('CSV', ['SET preserve_insertion_order = true', "SET TimeZone = 'UTC'"]);

  constructor(dir: string) {
    this.dir = dir;
  }

  /** A cold Observable: each subscription runs the table once; unsubscribing or aborting `request.signal` cancels it. */
  sync(request: SyncRequest): Observable<ConnectorEvent> {
    return this.#runs.run$(request, (connection, signal, emit) => new TableRun(this.dir, request, signal, emit).execute(connection));
  }

  /** Starts creating the DuckDB instance of the coming runs. */
  prepare(): void {
    this.#runs.prepare();
  }

  /** Cancels running syncs and closes the DuckDB instance. */
  close(): Promise<void> {
    return this.#runs.close();
  }
}

/** A written chunk, reported once the whole run succeeded. */
interface StagedChunk {
  path: string;
  rows: number;
  sourceFile: string;
  digest: StoredBlob;
}

/** Thrown internally when a sampled type proved wrong: detection is repeated over whole files. */
class DetectionTooNarrow extends Error {}

/** Thrown internally when a file mixes line endings (DuckDB's strict reader refuses it): the run reads a normalised copy. */
class MixedLineEndings extends Error {
  constructor(readonly file: TableFile) {
    super(`CSV file "${file.relativePath}" mixes line endings`);
  }
}

/** One run of one table. */
class TableRun {
  readonly #dir: string;
  readonly #request: SyncRequest;
  readonly #table: TableConfig;
  readonly #signal: AbortSignal;
  readonly #emit: (event: ConnectorEvent) => void;
  readonly #written: string[] = [];
  /** Plain-named links to source files whose paths DuckDB would take for a glob, and normalised copies of files with mixed line endings. */
  readonly #links = new Map<string, string>();
  readonly #normalised = new Set<string>();
  #dialect!: CsvDialect;
  #connection: DuckDBConnection | undefined;

  constructor(dir: string, request: SyncRequest, signal: AbortSignal, emit: (event: ConnectorEvent) => void) {
    this.#dir = dir;
    this.#request = request;
    this.#table = request.table;
    this.#signal = signal;
    this.#emit = emit;
  }

  async execute(connection: DuckDBConnection): Promise<void> {
    this.#connection = connection;
    const interrupt = () => connection.interrupt();
    this.#signal.addEventListener('abort', interrupt, { once: true });
    try {
      await this.#run();
    } catch (err) {
      await this.#removeWritten();
      if (this.#signal.aborted && !hasCode(err, CSV_INVALID) && !hasCode(err, ErrorCode.configInvalid)) throw this.#cancelled(err);
      throw err;
    } finally {
      this.#signal.removeEventListener('abort', interrupt);
      connection.closeSync();
      await Promise.all([...this.#links.values()].map((link) => rm(link, { force: true })));
    }
  }

  async #run(): Promise<void> {
    const table = this.#table;
    if (!table.file) {
      throw adaError(ErrorCode.configInvalid, `Table ${table.id} (${table.location.file}:${table.location.line}) comes from the CSV source but has no \`file\``, { table: table.id });
    }
    this.#dialect = csvDialect(table);
    const files = await resolveTableFiles(this.#dir, table.file);
    const incremental = table.syncStrategy === 'incremental';
    const previous = parseCsvCursor(this.#request.cursor);
    const planned = await planFiles(files, previous, incremental ? 'changed' : 'all', this.#signal);
    const staged = planned.filter((f) => f.stage);
    const mode = incremental && previous !== undefined ? 'upsert' : 'replace';
    this.#emit({ kind: 'progress', rows: 0, bytes: 0, message: `${table.id}: ${files.length} CSV file(s), ${staged.length} to stage` });
    if (staged.length === 0) {
      this.#emit({ kind: 'complete', mode, cursor: cursorOf(planned), metadata: { files: files.length, stagedFiles: 0 } });
      return;
    }
    await mkdir(this.#request.workDir, { recursive: true });
    await this.#linkGlobLikePaths(planned);
    let result: { chunks: StagedChunk[]; schema: ColumnSchema[] } | undefined;
    let sample = DEFAULT_SAMPLE;
    // Each retry widens the sample or normalises one more file, so the loop ends.
    while (result === undefined) {
      try {
        result = await this.#stage(planned, sample);
      } catch (err) {
        if (err instanceof DetectionTooNarrow && sample !== FULL_SAMPLE) sample = FULL_SAMPLE;
        else if (err instanceof MixedLineEndings && !this.#normalised.has(err.file.relativePath)) await this.#normalise(err.file, planned);
        else throw err;
        await this.#removeWritten();
      }
    }
    this.#checkAborted();
    for (const chunk of result.chunks) {
      this.#emit({ kind: 'chunk', path: chunk.path, format: 'parquet', rows: chunk.rows, schema: result.schema, sourceFile: chunk.sourceFile, digest: chunk.digest });
    }
    this.#emit({ kind: 'complete', mode, cursor: cursorOf(planned), metadata: { files: files.length, stagedFiles: staged.length } });
  }

  /** Detects or checks the schema over all files, then writes one Parquet chunk per staged file. */
  async #stage(planned: PlannedFile[], sample: number): Promise<{ chunks: StagedChunk[]; schema: ColumnSchema[] }> {
    const table = this.#table;
    const detect = needsDetection(table);
    const shapes: FileShape[] = [];
    for (const file of planned) {
      this.#checkAborted();
      shapes.push(await this.#inspect(file, detect, sample));
    }
    if (detect && shapes.length > 1) await this.#flagEmptyColumns(planned, shapes, sample);
    const declared = declaredColumns(table);
    const plan = declared ? declaredSchema(table, declared, shapes, this.#dialect.header) : detectedSchema(table, shapes);
    const predicate = await this.#predicate(plan);
    const chunks: StagedChunk[] = [];
    let rows = 0;
    let bytes = 0;
    for (const [index, file] of planned.entries()) {
      if (!file.stage) continue;
      this.#checkAborted();
      const shape = shapes[index] as FileShape;
      const chunk = await this.#writeChunk(file, shape, plan, predicate, chunks.length, sample);
      chunks.push(chunk);
      rows += chunk.rows;
      bytes += file.state.size;
      this.#emit({ kind: 'progress', rows, bytes, message: `${table.id}: staged ${file.relativePath} (${chunk.rows} rows)` });
    }
    return { chunks, schema: await this.#describe(chunks[0] as StagedChunk, plan) };
  }

  /** Reads a file's first record (names) and, when needed, lets DuckDB's sniffer detect its column types. */
  async #inspect(file: PlannedFile, detect: boolean, sample: number): Promise<FileShape> {
    const first = await readFirstRecord(file.absolutePath, this.#dialect);
    if (!first.ok) {
      const what = first.problem === 'too-long' ? 'the first line is too long to be a header' : 'unterminated quoted field';
      throw this.#invalid(file, what, { line: 1 });
    }
    if (first.fields === undefined) return { relativePath: file.relativePath, names: [] };
    if (first.fields.some((f) => f.includes('\uFFFD'))) throw this.#invalid(file, this.#encodingProblem(), { line: 1 });
    const names = columnNames(first.fields, this.#dialect.header);
    const shape: FileShape = { relativePath: file.relativePath, names };
    if (!detect) return shape;
    const sniffSql = `SELECT Columns, DateFormat, TimestampFormat FROM sniff_csv(${quoteLiteral(this.#duckPath(file))}, ${dialectSql(this.#dialect)}, `
      + `nullstr=[${sniffNullStrings(this.#dialect).map(quoteLiteral).join(', ')}], `
      + `auto_type_candidates=[${TYPE_CANDIDATES.map(quoteLiteral).join(', ')}], sample_size=${sample})`;
    let row: Record<string, unknown> | undefined;
    try {
      row = (await this.#db().runAndReadAll(sniffSql)).getRowObjectsJson()[0] as Record<string, unknown> | undefined;
    } catch (err) {
      this.#checkAborted();
      // The sniffer's own message rarely says where; a plain text read of the file does.
      await this.#scanForReaderError(file, names);
      if (this.#dialect.header && isHeaderOnly(err)) return { ...shape, detected: new Map(names.map((n) => [n, { type: 'VARCHAR', empty: true }])) };
      throw this.#invalid(file, `DuckDB could not detect the column types: ${parseDuckCsvError(messageOf(err)).summary}`, {});
    }
    const columns = (row?.Columns ?? []) as Array<{ name: string; type: string }>;
    if (columns.length !== names.length) {
      await this.#scanForReaderError(file, names);
      throw this.#invalid(file, `DuckDB detected ${columns.length} columns but the first line has ${names.length}`, { line: 1 });
    }
    shape.detected = new Map(names.map((n, i) => [n, { type: detectedType((columns[i] as { type: string }).type) }]));
    if (typeof row?.DateFormat === 'string') shape.dateFormat = row.DateFormat;
    if (typeof row?.TimestampFormat === 'string') shape.timestampFormat = row.TimestampFormat;
    return shape;
  }

  /** DuckDB reports a column with no values in the sample as VARCHAR; where files disagree, such columns must not force VARCHAR. */
  async #flagEmptyColumns(planned: PlannedFile[], shapes: FileShape[], sample: number): Promise<void> {
    const typed = new Set<string>();
    for (const s of shapes) for (const [name, c] of s.detected ?? []) if (c.type !== 'VARCHAR') typed.add(name);
    for (const [index, shape] of shapes.entries()) {
      const suspects = [...(shape.detected ?? [])].filter(([name, c]) => c.type === 'VARCHAR' && typed.has(name)).map(([name]) => name);
      if (suspects.length === 0) continue;
      const file = planned[index] as PlannedFile;
      const read = readCsvSql(this.#duckPath(file), this.#dialect, shape.names.map((name) => ({ name, type: 'VARCHAR' })));
      const limit = sample === FULL_SAMPLE ? '' : ` LIMIT ${sample}`;
      const blank = ['', ...ZERO_DATES].map(quoteLiteral).join(', ');
      const counts = suspects.map((n) => `count(CASE WHEN ${quoteIdentifier(n)} NOT IN (${blank}) THEN 1 END)`).join(', ');
      const sql = `SELECT ${counts} FROM (SELECT ${suspects.map(quoteIdentifier).join(', ')} FROM ${read}${limit})`;
      const values = (await this.#query(sql, file)).getRowsJson()[0] ?? [];
      suspects.forEach((name, i) => {
        if (Number(values[i]) === 0) (shape.detected as Map<string, DetectedColumn>).set(name, { type: 'VARCHAR', empty: true });
      });
    }
  }

  /** The SQL predicate of the table's where_filters, checked against the schema before any data is read. */
  async #predicate(plan: ColumnPlan[]): Promise<string> {
    const table = this.#table;
    const names = new Set(plan.map((c) => c.name));
    for (const f of table.whereFilters) {
      if (!names.has(f.column)) {
        throw adaError(ErrorCode.configInvalid, `Table ${table.id}: where_filters column "${f.column}" is not a column of the CSV data (${[...names].join(', ')})`, { table: table.id, column: f.column });
      }
    }
    const predicate = whereFiltersToSql(table.whereFilters, this.#request.now);
    if (predicate === 'TRUE') return predicate;
    const probe = plan.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdentifier(c.name)}`).join(', ');
    try {
      await this.#db().run(`SELECT count(*) FROM (SELECT ${probe}) WHERE ${predicate}`);
    } catch (err) {
      throw adaError(ErrorCode.configInvalid, `Table ${table.id}: a where_filters value does not fit its column: ${parseDuckCsvError(messageOf(err)).summary}`, { table: table.id }, err);
    }
    return predicate;
  }

  /** COPY one file into a Parquet chunk; the file appears under its final name only when complete. */
  async #writeChunk(file: PlannedFile, shape: FileShape, plan: ColumnPlan[], predicate: string, seq: number, sample: number): Promise<StagedChunk> {
    const base = `${String(seq + 1).padStart(5, '0')}-${file.relativePath.replace(/[^A-Za-z0-9._-]+/g, '_')}`.slice(0, 120);
    const finalPath = path.join(this.#request.workDir, `${base}.parquet`);
    const partial = `${finalPath}.partial`;
    const readNames = this.#readNames(shape, plan);
    const hashing = file.hash?.();
    // A rejected hash is handled after the COPY; this keeps it from counting as unhandled meanwhile.
    hashing?.catch(() => undefined);
    this.#written.push(partial);
    try {
      const sql = `COPY (${selectFileSql(this.#duckPath(file), this.#dialect, plan, shape, readNames, predicate)}) TO ${quoteLiteral(partial)} (${V2_COPY_OPTIONS})`;
      // The work directory is the run's own and a retry removes what it wrote, so no stale file sits at `partial`.
      const copying = this.#db().runAndReadAll(sql);
      // The chunk is hashed while DuckDB writes it, so the blob store need not read it back.
      const digesting = hashWhileWritten(partial, copying);
      digesting.catch(() => undefined);
      const reader = await copying;
      const rows = Number(reader.getRows()[0]?.[0] ?? 0);
      const digest = await digesting;
      await rename(partial, finalPath);
      this.#written.push(finalPath);
      if (hashing) file.state.sha256 = await hashing;
      return { path: finalPath, rows, sourceFile: file.relativePath, digest };
    } catch (err) {
      await rm(partial, { force: true });
      if (err instanceof DetectionTooNarrow || hasCode(err, CSV_INVALID)) throw err;
      // A Parquet copy is rarely larger than its CSV, so the CSV's size is the space to free.
      const full = await diskFullError(err, {
        path: partial, bytesNeeded: file.state.size,
        outcome: `CSV file "${file.relativePath}" of table ${this.#table.id} was not staged, and the table's published files are unchanged`,
      });
      if (full) throw full;
      this.#checkAborted();
      throw await this.#readFailure(err, file, shape, plan, readNames, sample);
    }
  }

  /** Turns a failed read of `file` into a CSV_INVALID error with the file, physical line and column. */
  async #readFailure(err: unknown, file: PlannedFile, shape: FileShape, plan: ColumnPlan[], readNames: string[], sample: number): Promise<Error> {
    const parsed = parseDuckCsvError(messageOf(err));
    if (parsed.problem === 'other') return adaError(CSV_READ_FAILED, `CSV file "${file.relativePath}": reading it failed: ${parsed.summary} (table ${this.#table.id})`, { table: this.#table.id, file: file.relativePath }, err);
    if (parsed.problem === 'conversion') {
      const column = plan.find((c) => c.name === parsed.column);
      if (column && !column.declared && sample !== FULL_SAMPLE) return new DetectionTooNarrow(parsed.summary);
      if (parsed.record === undefined && parsed.column !== undefined) {
        // Our SQL conversions cannot say where the value is; find its row, then its line.
        const sql = locateBadRowSql(this.#duckPath(file), this.#dialect, plan, shape, readNames, parsed.column);
        const found = sql ? (await this.#db().runAndReadAll(sql).catch(() => undefined))?.getRowsJson()[0]?.[0] : undefined;
        if (found !== undefined && found !== null) {
          const dataRow = Number(found);
          return this.#describeProblem(file, parsed, err, { dataRow });
        }
      }
    }
    return this.#describeProblem(file, parsed, err);
  }

  /** Builds the CSV_INVALID error; the position is DuckDB's record number, or `dataRow` (1-based, blank lines not counted). */
  async #describeProblem(file: TableFile, parsed: DuckCsvError, cause: unknown, position: { dataRow?: number } = {}): Promise<Error> {
    const scanned = await this.#scanProblem(file, parsed, cause);
    if (scanned) return scanned;
    let line: number | undefined;
    if (parsed.record !== undefined) {
      line = (await physicalLineOfRecord(file.absolutePath, parsed.record, this.#dialect, true).catch(() => undefined)) ?? parsed.record;
    } else if (position.dataRow !== undefined) {
      const record = position.dataRow + (this.#dialect.header ? 1 : 0);
      line = await physicalLineOfRecord(file.absolutePath, record, this.#dialect, false).catch(() => undefined);
      if (line === undefined) parsed.record = record;
    }
    const column = parsed.problem === 'conversion' ? parsed.column : undefined;
    const plan = parsed.problem === 'conversion' ? this.#table.columns.find((c) => c.name === column) : undefined;
    let what: string;
    switch (parsed.problem) {
      case 'field-count':
        what = `expected ${parsed.expected} fields, found ${parsed.found}`;
        break;
      case 'conversion':
        what = `${JSON.stringify(truncate(parsed.value ?? ''))} is not a valid ${parsed.type}${plan?.type ? ` (declared ${plan.type})` : ' (detected type)'}`;
        break;
      case 'encoding':
        what = this.#encodingProblem();
        break;
      case 'unterminated-quote':
        what = 'unterminated quoted field';
        break;
      case 'line-too-long':
        what = `a record is longer than the limit of ${this.#dialect.maxLineSize.toLocaleString('en-US')} bytes; raise csv.max_line_size of table ${this.#table.id}`;
        break;
      case 'invalid-state':
        what = 'the file is not RFC 4180 CSV (DuckDB\'s parser reached an invalid state: look for a quote inside an unquoted field or text after a closing quote)';
        break;
      default:
        what = parsed.summary;
    }
    const extra: { line?: number; column?: string; record?: number; value?: string } = {};
    if (line !== undefined) extra.line = line;
    if (column !== undefined) extra.column = column;
    if (parsed.record !== undefined) extra.record = parsed.record;
    if (parsed.value !== undefined) extra.value = truncate(parsed.value);
    return this.#invalid(file, what, extra, cause);
  }

  /**
   * DuckDB misreports a record over max_line_size (as an unterminated quote on a later line, or a parallel reader limit),
   * and mixed line endings as an invalid state (no line), an unterminated quote or a wrong field count; a scan of the file
   * finds both. Returns the error to report, or undefined; throws MixedLineEndings when a normalised copy should be read.
   */
  async #scanProblem(file: TableFile, parsed: DuckCsvError, cause: unknown): Promise<Error | undefined> {
    if (!['line-too-long', 'unterminated-quote', 'invalid-state', 'field-count'].includes(parsed.problem) || this.#dialect.encoding === 'utf-16') return undefined;
    const limit = this.#dialect.maxLineSize;
    const scan = await scanRecords(file.absolutePath, this.#dialect, { longerThan: limit });
    if (scan.long) {
      const { line, bytes } = scan.long;
      const suggestion = Math.ceil((bytes + 1) / 1_000_000) * 1_000_000;
      return this.#invalid(file, `a record of ${bytes.toLocaleString('en-US')} bytes is longer than the limit of ${limit.toLocaleString('en-US')} bytes; `
        + `set csv.max_line_size: ${suggestion} (or more) on table ${this.#table.id} to read it`, { line }, cause);
    }
    if (scan.otherEnding && !this.#normalised.has(file.relativePath)) throw new MixedLineEndings(file);
    if (parsed.problem === 'invalid-state' && scan.otherEnding) {
      return this.#invalid(file, `line endings are mixed (${scan.firstEnding} first, ${scan.otherEnding.ending} here) and the file still does not read`, { line: scan.otherEnding.line }, cause);
    }
    return undefined;
  }

  /** Reads a file with mixed line endings through a copy whose record breaks are all `\n` (values and line numbers unchanged). */
  async #normalise(file: TableFile, planned: PlannedFile[]): Promise<void> {
    const index = planned.findIndex((f) => f.relativePath === file.relativePath);
    const copy = path.join(this.#request.workDir, `normalised-${String(index + 1).padStart(5, '0')}.csv`);
    await rm(copy, { force: true });
    this.#normalised.add(file.relativePath);
    const previous = this.#links.get(file.relativePath);
    this.#links.set(file.relativePath, copy);
    if (previous) await rm(previous, { force: true });
    try {
      await scanRecords(file.absolutePath, this.#dialect, { normaliseTo: copy });
    } catch (err) {
      await rm(copy, { force: true });
      const outcome = `CSV file "${file.relativePath}" mixes line endings and could not be copied to read it, and the published files of table ${this.#table.id} are unchanged`;
      throw await diskFullError(err, { path: copy, bytesNeeded: (await stat(file.absolutePath)).size, outcome }) ?? err;
    }
    this.#emit({ kind: 'progress', rows: 0, bytes: 0, message: `${this.#table.id}: ${file.relativePath} mixes line endings; reading it with every record break as LF` });
  }

  /** Reads every column of `file` as text so a tokenizer problem surfaces with its line; returns when the file reads cleanly. */
  async #scanForReaderError(file: PlannedFile, names: string[]): Promise<void> {
    try {
      await this.#db().run(scanAllTextSql(this.#duckPath(file), this.#dialect, names));
    } catch (err) {
      this.#checkAborted();
      const parsed = parseDuckCsvError(messageOf(err));
      throw await this.#describeProblem(file, parsed, err);
    }
  }

  async #describe(chunk: StagedChunk, plan: ColumnPlan[]): Promise<ColumnSchema[]> {
    const rows = (await this.#db().runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quoteLiteral(chunk.path)})`)).getRowObjectsJson();
    const descriptions = new Map(plan.map((c) => [c.name, c.description]));
    return rows.map((r) => {
      const name = String(r.column_name);
      const column: ColumnSchema = { name, type: normaliseDuckType(String(r.column_type)) };
      const description = descriptions.get(name);
      if (description !== undefined) column.description = description;
      return column;
    });
  }

  /** DuckDB expands `*`, `?` and `[` in a read path even when a file has that literal name, so such files are read through a link. */
  async #linkGlobLikePaths(planned: PlannedFile[]): Promise<void> {
    for (const [index, file] of planned.entries()) {
      if (!/[*?[]/.test(file.absolutePath)) continue;
      const link = path.join(this.#request.workDir, `source-${String(index + 1).padStart(5, '0')}.csv`);
      await rm(link, { force: true });
      await symlink(file.absolutePath, link);
      this.#links.set(file.relativePath, link);
    }
  }

  /** The path DuckDB reads `file` from. */
  #duckPath(file: TableFile): string {
    return this.#links.get(file.relativePath) ?? file.absolutePath;
  }

  /** Names a file's columns are read under: its header; the declared names by position without one; the plan's for an empty file. */
  #readNames(shape: FileShape, plan: ColumnPlan[]): string[] {
    if (shape.names.length === 0) return plan.map((c) => c.name);
    const declared = declaredColumns(this.#table);
    return !this.#dialect.header && declared ? declared.map((c) => c.name) : shape.names;
  }

  /** Runs a query about `file`, reporting a failure as a CSV problem of that file. */
  async #query(sql: string, file: PlannedFile) {
    try {
      return await this.#db().runAndReadAll(sql);
    } catch (err) {
      this.#checkAborted();
      throw await this.#describeProblem(file, parseDuckCsvError(messageOf(err)), err);
    }
  }

  #db(): DuckDBConnection {
    if (!this.#connection) throw adaError(ErrorCode.closed, 'No DuckDB connection');
    return this.#connection;
  }

  #encodingProblem(): string {
    return `invalid ${this.#dialect.encoding === 'utf-16' ? 'UTF-16' : this.#dialect.encoding === 'latin-1' ? 'Latin-1' : 'UTF-8'} byte sequence; set csv.encoding if the file uses another encoding`;
  }

  #invalid(file: TableFile, what: string, where: { line?: number; column?: string; record?: number; value?: string }, cause?: unknown) {
    const at = [where.line !== undefined ? `line ${where.line}` : '', where.column !== undefined ? `column "${where.column}"` : ''].filter(Boolean).join(', ');
    return adaError(CSV_INVALID, `CSV file "${file.relativePath}"${at ? ` ${at}` : ''}: ${what} (table ${this.#table.id})`, {
      table: this.#table.id, file: file.relativePath, line: where.line, column: where.column, ...(where.record !== undefined ? { record: where.record } : {}), ...(where.value !== undefined ? { value: where.value } : {}),
    }, cause);
  }

  #checkAborted(): void {
    if (this.#signal.aborted) throw this.#cancelled(this.#signal.reason);
  }

  #cancelled(cause: unknown) {
    return adaError(CsvErrorCode.cancelled, `The CSV sync of table ${this.#table.id} was cancelled`, { table: this.#table.id }, cause);
  }

  async #removeWritten(): Promise<void> {
    await Promise.all(this.#written.splice(0).map((p) => rm(p, { force: true })));
  }
}

/** Zero dates count as NULL while detecting, so a date column holding some still detects as a date (they read as NULL). */
function sniffNullStrings(dialect: CsvDialect): string[] {
  return ['', ...(dialect.nullString ? [dialect.nullString] : []), ...ZERO_DATES];
}

function isHeaderOnly(err: unknown): boolean {
  return /Header options/.test(messageOf(err));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function truncate(value: string): string {
  return value.length > MAX_VALUE_IN_MESSAGE ? `${value.slice(0, MAX_VALUE_IN_MESSAGE)}…` : value;
}
