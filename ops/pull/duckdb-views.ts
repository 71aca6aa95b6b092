/**
 * `user/duckdb/analytics.duckdb`: one view per table over the Parquet of `server/` (partitioned tables as a
 * glob read with `union_by_name`, so partitions written before a column was added still read). Built aside
 * and renamed over the old file; nothing else under `user/` is touched.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { AnalystManifest } from '../../pipeline/index.ts';
import type { PullLayout } from './layout.ts';

/** A DuckDB string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A DuckDB identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** The `SELECT` of one table's view, reading from `serverDir` (the `server/` symlink, so views follow each pull). */
export function viewSql(manifest: AnalystManifest, table: AnalystManifest['tables'][number], serverDir: string): string | undefined {
  const files = manifest.files.filter((f) => f.table === table.name && f.path.endsWith('.parquet'));
  if (files.length === 0) return undefined;
  if (table.partitioned) {
    const dir = path.posix.dirname(files[0]!.path);
    return `SELECT * FROM read_parquet(${sqlString(path.join(serverDir, dir, '*.parquet'))}, union_by_name = true)`;
  }
  return `SELECT * FROM read_parquet(${sqlString(path.join(serverDir, files[0]!.path))})`;
}

/** Rebuilds the DuckDB file; returns the names of the views created. */
export async function buildViews(layout: PullLayout, manifest: AnalystManifest): Promise<string[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  await mkdir(path.dirname(layout.duckdb), { recursive: true });
  const tmp = `${layout.duckdb}.building`;
  await rm(tmp, { force: true });
  await rm(`${tmp}.wal`, { force: true });
  const db = await DuckDBInstance.create(tmp);
  const views: string[] = [];
  try {
    const conn = await db.connect();
    try {
      for (const t of manifest.tables) {
        const select = viewSql(manifest, t, layout.server);
        if (!select) continue;
        await conn.run(`CREATE VIEW ${sqlIdent(t.name)} AS ${select}`);
        views.push(t.name);
      }
      await conn.run('CHECKPOINT');
    } finally {
      conn.closeSync();
    }
  } finally {
    db.closeSync();
  }
  await rm(`${tmp}.wal`, { force: true });
  await rename(tmp, layout.duckdb);
  await rm(`${layout.duckdb}.wal`, { force: true });
  return views;
}
