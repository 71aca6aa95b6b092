/**
 * How a sync strategy maps to Keboola exports: which `changedSince`/`changedUntil` windows to export, whether the
 * run replaces or upserts, the incremental cursor, and the table's where_filters as export filters.
 */
import type { TableConfig } from '../../config/index.ts';
import { adaError, ErrorCode } from '../../events/index.ts';
import type { PublishedType } from '../../pipeline/index.ts';
import { resolvePlaceholder } from '../../pipeline/index.ts';
import type { ExportWhereFilter } from './storage-api-types.ts';

/** The cursor of an incremental Keboola table: when the last successful export started (ISO 8601, UTC). */
export interface KeboolaCursor {
  lastExportStart: string;
}

/** One export: rows whose change time (Keboola's per-row `_timestamp`) is in [changedSince, changedUntil). */
export interface ExportWindow {
  changedSince?: string;
  changedUntil?: string;
}

/** The exports of one run. */
export interface ExportPlan {
  mode: 'replace' | 'upsert';
  /** Oldest first; each becomes one chunk. */
  windows: ExportWindow[];
  /** The cursor a successful run stores (unless it fetched no rows: then the previous cursor stays). */
  cursor: KeboolaCursor;
  /** Why the windows are what they are, for progress messages. */
  reason: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The cursor stored by an earlier run, or undefined when there is none (or it is not ours, e.g. after a source change). */
export function parseCursor(raw: unknown): KeboolaCursor | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const at = (raw as { lastExportStart?: unknown }).lastExportStart;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) return undefined;
  return { lastExportStart: at };
}

/**
 * Plans the exports of a run starting at `exportStart`:
 * - full_refresh and partitioned: one export of everything, replace;
 * - incremental with a cursor: one export of rows changed since `lastExportStart − incremental_window_days`, upsert;
 * - incremental without one (the first load): bounded by `max_history_days` when set, split into windows of
 *   `initial_load_chunk_days` ending at `exportStart`, all replacing the table in this one run (the windows are
 *   disjoint, so no row arrives twice); without `max_history_days`, one export of everything.
 */
export function planExports(table: TableConfig, rawCursor: unknown, exportStart: Date): ExportPlan {
  const cursor: KeboolaCursor = { lastExportStart: exportStart.toISOString() };
  if (table.syncStrategy !== 'incremental') return { mode: 'replace', windows: [{}], cursor, reason: `${table.syncStrategy}: full export` };
  const previous = parseCursor(rawCursor);
  if (previous) {
    const windowDays = Math.max(0, table.incrementalWindowDays);
    const since = new Date(Date.parse(previous.lastExportStart) - windowDays * DAY_MS);
    return { mode: 'upsert', windows: [{ changedSince: apiTime(since) }], cursor, reason: `incremental: rows changed since ${apiTime(since)} (last export ${previous.lastExportStart} − ${windowDays} day window)` };
  }
  if (table.maxHistoryDays === undefined) return { mode: 'replace', windows: [{}], cursor, reason: 'incremental first load: full export (no max_history_days)' };
  const from = exportStart.getTime() - table.maxHistoryDays * DAY_MS;
  const step = Math.max(1, table.initialLoadChunkDays) * DAY_MS;
  const windows: ExportWindow[] = [];
  for (let start = from; start < exportStart.getTime(); start += step) {
    windows.push({ changedSince: apiTime(new Date(start)), changedUntil: apiTime(new Date(Math.min(start + step, exportStart.getTime()))) });
  }
  if (windows.length === 0) windows.push({ changedSince: apiTime(new Date(from)), changedUntil: apiTime(exportStart) });
  return { mode: 'replace', windows, cursor, reason: `incremental first load: ${table.maxHistoryDays} days in ${windows.length} window(s) of ${table.initialLoadChunkDays} days` };
}

/** A time as the export accepts it: ISO 8601 to the second, UTC (`2026-03-15T10:00:00+00:00`). */
export function apiTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/**
 * The table's where_filters as export filters, placeholders resolved against `now`. Columns must exist; the
 * comparisons gt/ge/lt/le on numeric columns carry the `dataType` Keboola needs to compare numbers, not text.
 */
export function exportFilters(table: TableConfig, now: Date, columns: ReadonlyMap<string, PublishedType>): ExportWhereFilter[] {
  return table.whereFilters.map((filter) => {
    if (!columns.has(filter.column)) {
      throw adaError(ErrorCode.configInvalid, `Table ${table.id} (${table.location.file}:${table.location.line}): where_filters column "${filter.column}" is not a column of the Keboola table (${[...columns.keys()].join(', ')})`, {
        table: table.id, column: filter.column,
      });
    }
    const values = filter.values.map((v) => resolvePlaceholder(v, now));
    if (['gt', 'ge', 'lt', 'le'].includes(filter.operator) && values.length !== 1) {
      throw adaError(ErrorCode.configInvalid, `Table ${table.id}: where_filters on "${filter.column}" with operator ${filter.operator} needs exactly one value`, { table: table.id, column: filter.column });
    }
    const out: ExportWhereFilter = { column: filter.column, operator: filter.operator, values };
    const type = columns.get(filter.column);
    if (['gt', 'ge', 'lt', 'le'].includes(filter.operator) && (type === 'BIGINT' || type === 'DOUBLE')) out.dataType = type === 'BIGINT' ? 'INTEGER' : 'DOUBLE';
    return out;
  });
}
