/**
 * The rows of each month as the encoding thread keeps them: a pass sends the rows of the issues it changed, not
 * every row of every touched month (cloning 24 months of rows to the thread each pass held the main thread for
 * tens of milliseconds, and built them there first).
 */
import { encodeMonth } from './parquet-month.ts';
import type { WrittenFile } from './parquet-month.ts';
import { JIRA_TABLES } from './tables.ts';
import type { IssueRows, JiraTable, Row } from './tables.ts';

/**
 * Changes of one month: the rows of issues set (`null`: the issue left the month), then the tables to encode.
 * `reset` starts the month from nothing (the changes are then all its issues); without it, a month the receiver
 * does not hold is answered `missing` and must be sent again with `reset`.
 */
export interface MonthChanges { month: string; reset: boolean; changes: Array<[string, IssueRows | null]>; tables: JiraTable[] }

/** One table of a month encoded (`data` absent when the month has no row of it). */
export type EncodedTable = { table: JiraTable } & WrittenFile & { data?: Uint8Array };

/**
 * Issues kept (their rows take a few kilobytes each); the months used longest ago are dropped past it, and are
 * sent whole again when a pass touches them.
 */
const MAX_ISSUES = 20_000;

/**
 * Issue keys in their natural order (`A-9` before `A-10`). One collator: `localeCompare` with options looks its
 * collator up on every call, 2 ms per sort of a month's 83 keys against 0.08 ms.
 */
const byKey = new Intl.Collator('en', { numeric: true }).compare;

/** Months of rows by key, least recently used first. */
export class MonthRows {
  private readonly months = new Map<string, Map<string, IssueRows>>();
  private issues = 0;

  /** Forgets the months whose id starts with `prefix` (all of them without one). */
  forget(prefix = ''): void {
    for (const [month, rows] of [...this.months]) {
      if (!month.startsWith(prefix)) continue;
      this.issues -= rows.size;
      this.months.delete(month);
    }
  }

  /** Applies the changes and encodes the tables asked for, or 'missing' when the month is not held (send it with `reset`). */
  apply(req: MonthChanges): EncodedTable[] | 'missing' {
    let rows = this.months.get(req.month);
    if (!rows && !req.reset) return 'missing';
    if (rows) {
      this.months.delete(req.month);
      this.issues -= rows.size;
    }
    if (req.reset || !rows) rows = new Map();
    for (const [key, issue] of req.changes) {
      if (issue) rows.set(key, issue);
      else rows.delete(key);
    }
    this.months.set(req.month, rows);
    this.issues += rows.size;
    for (const [month, old] of this.months) {
      if (this.issues <= MAX_ISSUES || month === req.month) break;
      this.issues -= old.size;
      this.months.delete(month);
    }
    const keys = [...rows.keys()].sort(byKey);
    return req.tables.map((table) => {
      const tableRows: Row[] = keys.flatMap((k) => rows.get(k)![table]);
      if (tableRows.length === 0) return { table, bytes: 0, sha256: '', rows: 0 };
      return { table, ...encodeMonth(JIRA_TABLES[table], tableRows) };
    });
  }
}
