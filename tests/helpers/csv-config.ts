/** Test helpers for the CSV connector: minimal config objects, temp dirs, running a sync and reading staged Parquet back. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { lastValueFrom, toArray } from 'rxjs';
import type { AdaConfig, TableConfig } from '../../config/index.ts';
import type { Connector, ConnectorEvent, SyncRequest } from '../../pipeline/contract.ts';

/** A table definition with the defaults the config loader would fill in. */
export function csvTable(overrides: Partial<TableConfig> = {}): TableConfig {
  return {
    id: 'in.c-csv.orders',
    name: 'orders',
    description: 'Orders from CSV',
    source: 'csv',
    primaryKey: [],
    syncStrategy: 'full_refresh',
    incrementalWindowDays: 7,
    partitionGranularity: 'month',
    initialLoadChunkDays: 30,
    whereFilters: [],
    foreignKeys: [],
    folder: 'csv',
    bucket: 'in.c-csv',
    columns: [],
    private: false,
    schemaPolicy: 'strict',
    location: { file: 'docs/data_description.md', line: 1 },
    file: 'orders.csv',
    ...overrides,
  };
}

/** An instance configuration whose data source is the CSV directory `dir`. */
export function csvConfig(dir: string | undefined, tables: TableConfig[] = []): AdaConfig {
  return {
    configDir: '/config',
    instanceFile: '/config/instance.yaml',
    instance: {
      instance: { name: 'Test' },
      server: {},
      admins: [],
      auth: { allowedDomain: 'example.com', webappSecretKey: 'secret', allowedEmails: [] },
      dataSource: dir === undefined ? { type: 'csv' } : { type: 'csv', csv: { dir } },
      users: {},
      datasets: {},
      catalog: { categories: {}, order: [] },
    },
    tables,
    folderMapping: {},
    descriptionFiles: [],
    secrets: [],
  };
}

/** A scratch area: `dir` holds the CSV files, `workDir` receives staged chunks. */
export interface CsvSandbox {
  dir: string;
  workDir: string;
  write(relativePath: string, content: string | Buffer): Promise<string>;
  cleanup(): Promise<void>;
}

export async function csvSandbox(): Promise<CsvSandbox> {
  const root = await mkdtemp(path.join(tmpdir(), 'ada-csv-'));
  const dir = path.join(root, 'csv');
  const workDir = path.join(root, 'work');
  await mkdir(dir);
  await mkdir(workDir);
  return {
    dir,
    workDir,
    async write(relativePath, content) {
      const target = path.join(dir, relativePath);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
      return target;
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** A sync request for `table` with a fresh run id. */
export function syncRequest(table: TableConfig, workDir: string, extra: Partial<SyncRequest> = {}): SyncRequest {
  return {
    runId: `run-${Math.random().toString(36).slice(2)}`,
    table,
    cursor: undefined,
    workDir,
    signal: new AbortController().signal,
    now: new Date('2026-03-15T10:00:00Z'),
    ...extra,
  };
}

/** Runs a sync to the end and returns all its events. */
export function collectEvents(connector: Connector, request: SyncRequest): Promise<ConnectorEvent[]> {
  return lastValueFrom(connector.sync(request).pipe(toArray()));
}

/** The chunk events of a run. */
export function chunksOf(events: ConnectorEvent[]): Array<Extract<ConnectorEvent, { kind: 'chunk' }>> {
  return events.filter((e): e is Extract<ConnectorEvent, { kind: 'chunk' }> => e.kind === 'chunk');
}

/** The complete event of a run (throws when missing). */
export function completeOf(events: ConnectorEvent[]): Extract<ConnectorEvent, { kind: 'complete' }> {
  const done = events.find((e): e is Extract<ConnectorEvent, { kind: 'complete' }> => e.kind === 'complete');
  if (!done) throw new Error('no complete event');
  return done;
}

/** Reads Parquet files back with DuckDB as JSON-friendly rows (dates and timestamps as strings, BIGINT as strings). */
export async function readParquet(paths: string | string[], orderBy?: string): Promise<Array<Record<string, unknown>>> {
  const list = (Array.isArray(paths) ? paths : [paths]).map((p) => `'${p.replaceAll("'", "''")}'`).join(', ');
  return query(`SELECT * FROM read_parquet([${list}])${orderBy ? ` ORDER BY ${orderBy}` : ''}`);
}

/** Column names and DuckDB types of a Parquet file. */
export async function parquetTypes(file: string): Promise<Record<string, string>> {
  const rows = await query(`DESCRIBE SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`);
  return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

async function query(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    const rows = (await connection.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
    connection.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}
