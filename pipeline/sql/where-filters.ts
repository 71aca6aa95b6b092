/** Turns a table's `where_filters` into a DuckDB SQL predicate, resolving `{{today}}`-style date placeholders. */
import type { WhereFilter } from '../../config/index.ts';
import { adaError, ErrorCode } from '../../events/index.ts';

/** Quotes a SQL identifier for DuckDB (`"a""b"`). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a SQL string literal for DuckDB (`'it''s'`); backslashes are not escapes in standard strings. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** How far back each placeholder reaches from `now`, in UTC calendar units. */
const PLACEHOLDERS: Record<string, { days?: number; months?: number }> = {
  today: { days: 0 },
  last_week: { days: 7 },
  last_month: { months: 1 },
  last_3_months: { months: 3 },
  last_6_months: { months: 6 },
  last_year: { months: 12 },
  last_2_years: { months: 24 },
};

const PLACEHOLDER_RE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** Replaces every `{{today}}`, `{{last_week}}`, … in `value` with the ISO date (`YYYY-MM-DD`, UTC) it stands for relative to `now`. */
export function resolvePlaceholder(value: string, now: Date): string {
  return value.replace(PLACEHOLDER_RE, (_match, rawName: string) => {
    const name = rawName.toLowerCase();
    const offset = PLACEHOLDERS[name];
    if (!offset) {
      throw adaError(ErrorCode.configInvalid, `Unknown placeholder {{${rawName}}} in where_filters value "${value}"; expected one of ${Object.keys(PLACEHOLDERS).map((k) => `{{${k}}}`).join(', ')}`, { value });
    }
    return isoDate(shiftUtc(now, offset.days ?? 0, offset.months ?? 0));
  });
}

/** Builds a predicate (for a WHERE clause) from the filters, ANDed; an empty list is `TRUE`. Values are string literals DuckDB casts to the column's type. */
export function whereFiltersToSql(filters: WhereFilter[], now: Date): string {
  if (filters.length === 0) return 'TRUE';
  return filters.map((filter) => `(${filterToSql(filter, now)})`).join(' AND ');
}

function filterToSql(filter: WhereFilter, now: Date): string {
  const column = quoteIdentifier(filter.column);
  const values = filter.values.map((v) => quoteLiteral(resolvePlaceholder(v, now)));
  switch (filter.operator) {
    case 'eq':
      if (values.length === 0) return 'FALSE';
      return values.length === 1 ? `${column} = ${values[0]}` : `${column} IN (${values.join(', ')})`;
    case 'ne':
      if (values.length === 0) return 'TRUE';
      return values.length === 1 ? `${column} <> ${values[0]}` : `${column} NOT IN (${values.join(', ')})`;
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      const first = values[0];
      if (first === undefined) {
        throw adaError(ErrorCode.configInvalid, `where_filters on column "${filter.column}": operator ${filter.operator} needs a value`, { column: filter.column });
      }
      return `${column} ${COMPARISON[filter.operator]} ${first}`;
    }
    default:
      return unknownOperator(filter.operator);
  }
}

const COMPARISON = { gt: '>', ge: '>=', lt: '<', le: '<=' } as const;

/** An operator the config validation let through: a CONFIG_INVALID naming the operators there are. */
function unknownOperator(operator: never): never {
  throw adaError(ErrorCode.configInvalid, `Unknown where_filters operator "${String(operator)}"; expected eq, ne, gt, ge, lt or le`);
}

/** `now` minus `days` and `months` in UTC; a day past the target month's end clamps to its last day (Mar 31 − 1 month = Feb 28/29). */
function shiftUtc(now: Date, days: number, months: number): Date {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(now.getUTCDate(), lastDay);
  return new Date(Date.UTC(year, month, day - days));
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}
