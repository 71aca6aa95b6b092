/**
 * Read-only SQL over the analyst's `analytics.duckdb`: opened with `access_mode = READ_ONLY`, file access
 * limited to `server/` (then locked), one SELECT per call, and limits on rows, bytes and time that end
 * the query with a clear error instead of flooding the assistant.
 */
import { realpath } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { adaError } from '../../events/index.ts';
import type { PullLayout } from '../pull/index.ts';
import { sqlString } from '../pull/index.ts';

/** Limits of one query. */
export interface QueryLimits {
  /** Rows returned at most; a query producing more fails (add a LIMIT or aggregate). */
  maxRows: number;
  /** Bytes of the JSON answer at most: an assistant's context is small. */
  maxBytes: number;
  /** Milliseconds a query may run. */
  timeoutMs: number;
}

/** Defaults: a screenful of rows is 50; 1,000 rows or 1 MB is plenty for an assistant; 30 s keeps it responsive. */
export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxRows: 1000, maxBytes: 1024 * 1024, timeoutMs: 30_000 };

/** A query's answer. */
export interface QueryAnswer {
  columns: string[];
  rows: unknown[][];
}

/** A read-only connection to the analyst's DuckDB file. */
export class ReadOnlyDatabase {
  private constructor(private readonly db: DuckDBInstance, private readonly conn: DuckDBConnection, readonly limits: QueryLimits) {}

  /** Opens `user/duckdb/analytics.duckdb` read-only. */
  static async create(layout: PullLayout, limits: QueryLimits = DEFAULT_QUERY_LIMITS): Promise<ReadOnlyDatabase> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const serverReal = await realpath(layout.server).catch(() => layout.server);
    const db = await DuckDBInstance.create(layout.duckdb, { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    const dirs = [...new Set([layout.server, serverReal])].map((d) => sqlString(`${d}/`)).join(', ');
    await conn.run(`SET allowed_directories = [${dirs}]`);
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
    return new ReadOnlyDatabase(db, conn, limits);
  }

  /** Runs one SELECT within the limits. */
  async query(sql: string, maxRows = this.limits.maxRows): Promise<QueryAnswer> {
    const { StatementType, JsonDuckDBValueConverter } = await import('@duckdb/node-api');
    const extracted = await this.conn.extractStatements(sql);
    if (extracted.count !== 1) throw adaError('BAD_ARGUMENT', `send exactly one SQL statement (got ${extracted.count})`);
    const prepared = await extracted.prepare(0);
    if (prepared.statementType !== StatementType.SELECT) throw adaError('FORBIDDEN', 'only SELECT queries are allowed: the data is read-only');
    const limit = Math.min(maxRows, this.limits.maxRows);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.conn.interrupt();
    }, this.limits.timeoutMs);
    try {
      const result = await prepared.stream();
      const columns = result.columnNames();
      const rows: unknown[][] = [];
      let bytes = 0;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (const row of chunk.convertRows(JsonDuckDBValueConverter)) {
          if (rows.length >= limit) throw adaError('LIMIT_EXCEEDED', `the query returns more than ${limit} rows; add a LIMIT, or aggregate (GROUP BY)`);
          bytes += JSON.stringify(row).length + 1;
          if (bytes > this.limits.maxBytes) throw adaError('LIMIT_EXCEEDED', `the answer is larger than ${this.limits.maxBytes} bytes after ${rows.length} rows; select fewer columns or rows`);
          rows.push(row);
        }
      }
      return { columns, rows };
    } catch (err) {
      if (timedOut) throw adaError('LIMIT_EXCEEDED', `the query ran longer than ${this.limits.timeoutMs / 1000} s and was stopped; narrow it down (filters, LIMIT, fewer joins)`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection and the database. */
  close(): void {
    this.conn.closeSync();
    this.db.closeSync();
  }
}
