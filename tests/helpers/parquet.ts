/** Test helpers: write Parquet files from SQL and read Parquet back as plain JSON rows, with one shared DuckDB instance. */
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

let connection: Promise<DuckDBConnection> | undefined;

function conn(): Promise<DuckDBConnection> {
  connection ??= DuckDBInstance.create(':memory:').then((i) => i.connect());
  return connection;
}

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A `read_parquet` call over one file, a glob or a list of files. */
function source(files: string | string[], options = ''): string {
  const list = Array.isArray(files) ? `[${files.map(literal).join(', ')}]` : literal(files);
  return `read_parquet(${list}${options ? `, ${options}` : ''})`;
}

/** Writes the rows of `select` (e.g. `SELECT * FROM (VALUES (1, 'a')) t(id, name)`) to a Parquet file. */
export async function writeParquet(file: string, select: string): Promise<void> {
  await (await conn()).run(`COPY (${select}) TO ${literal(file)} (FORMAT parquet)`);
}

/** Rows of Parquet files as JSON-safe objects (BIGINT as string, DATE as `YYYY-MM-DD`), ordered by `orderBy` when given. */
export async function readParquet(files: string | string[], opts: { orderBy?: string; unionByName?: boolean } = {}): Promise<Array<Record<string, unknown>>> {
  const order = opts.orderBy ? ` ORDER BY ${opts.orderBy}` : '';
  const sql = `SELECT * FROM ${source(files, opts.unionByName ? 'union_by_name = true' : '')}${order}`;
  return (await (await conn()).runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
}

/** Columns and DuckDB types of Parquet files. */
export async function parquetColumns(files: string | string[]): Promise<Array<{ name: string; type: string }>> {
  const rows = (await (await conn()).runAndReadAll(`DESCRIBE SELECT * FROM ${source(files)}`)).getRowObjectsJson();
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

/** Runs a query and returns JSON-safe rows (for checks the helpers above do not cover). */
export async function queryRows(sql: string): Promise<Array<Record<string, unknown>>> {
  return (await (await conn()).runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
}

/** The encodings of one column's chunks in a Parquet file, joined (e.g. `PLAIN,RLE_DICTIONARY`), from its footer. */
export async function columnEncodings(file: string, column: string): Promise<string> {
  const rows = await queryRows(`SELECT encodings FROM parquet_metadata(${literal(file)}) WHERE path_in_schema = ${literal(column)}`);
  return rows.map((r) => String(r.encodings)).join(',');
}
