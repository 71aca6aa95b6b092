/**
 * DuckDB SQL that reads an export's files (CSV slices without a header, a single CSV with one, or Parquet slices)
 * into the published columns and types. Keboola's CSV is RFC 4180 text in which every value is quoted and NULL is
 * an empty string, so every column is read as text and converted here: empty → NULL for non-string types,
 * `0000-00-00…` dates → NULL, booleans from true/false/1/0/yes/no, TIMESTAMP_TZ to UTC (the session time zone).
 */
import { assertNever } from '../../events/index.ts';
import type { PublishedType } from '../../pipeline/index.ts';
import { quoteIdentifier, quoteLiteral } from '../../pipeline/index.ts';
import { isoTemporalSql, plainIsoDateSql, plainIsoTimestampSql } from '../../pipeline/index.ts';
import type { PlannedColumn } from './table-schema.ts';

/** A value that does not convert raises `error()` with this marker, the type, the column and the value. */
const CAST_MARKER = 'ada-keboola-cast|';
const ZERO_DATE = '0000-00-00';
const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];
/**
 * Longest CSV record DuckDB will read. Keboola (Snowflake) values go up to 16 MB; DuckDB's default of 2 MB would
 * fail such rows. 16 MB plus quoting fits in 20 MB.
 */
export const MAX_LINE_BYTES = 20 * 1024 * 1024;

/** The list literal of files for `read_csv`/`read_parquet`. */
function fileList(files: readonly string[]): string {
  return `[${files.map(quoteLiteral).join(', ')}]`;
}

/** How `read_csv` reads a column: text (empty kept), or parsed natively by the reader (empty → NULL). */
export interface ReadColumn {
  name: string;
  type: PublishedType;
}

/**
 * `read_csv` over Keboola CSV files whose columns are `columns` (in file order). Text columns keep empty values
 * (force_not_null); natively parsed ones read `""` as NULL (quoted nulls allowed, the null string is empty).
 */
export function readCsvSql(files: readonly string[], columns: readonly ReadColumn[], header: boolean): string {
  const struct = columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(', ');
  const text = columns.filter((c) => c.type === 'VARCHAR').map((c) => quoteLiteral(c.name));
  return `read_csv(${fileList(files)}, delim=',', quote='"', escape='"', header=${header}, auto_detect=false, columns={${struct}}, `
    + `nullstr='', allow_quoted_nulls=true${text.length > 0 ? `, force_not_null=[${text.join(', ')}]` : ''}, strict_mode=true, null_padding=false, `
    + `ignore_errors=false, skip=0, comment='', encoding='utf-8', max_line_size=${MAX_LINE_BYTES})`;
}

/** The text of column `id` converted to `type` (NULL for empty text), failing loudly on a value that does not fit. */
export function fromTextSql(id: string, column: PlannedColumn): string {
  const empty = `${id} IS NULL OR ${id} = ''`;
  const fail = `error(${quoteLiteral(`${CAST_MARKER}${column.type}|${JSON.stringify(column.name)}|`)} || ${id})`;
  const t = column.type;
  switch (t) {
    case 'VARCHAR':
      return id;
    case 'BIGINT':
    case 'DOUBLE':
      // The cast refuses empty text, so it can go first and the checks run only for the rows it leaves NULL.
      return `coalesce(TRY_CAST(${id} AS ${t}), CASE WHEN ${empty} THEN NULL ELSE ${fail} END)`;
    case 'BOOLEAN': {
      const word = `lower(trim(${id}))`;
      return `CASE WHEN ${empty} THEN NULL WHEN ${word} IN (${TRUE_WORDS.map(quoteLiteral).join(', ')}) THEN true `
        + `WHEN ${word} IN (${FALSE_WORDS.map(quoteLiteral).join(', ')}) THEN false ELSE ${fail}::BOOLEAN END`;
    }
    case 'DATE':
    case 'TIMESTAMP':
    case 'TIMESTAMPTZ': {
      const checked = `CASE WHEN ${empty} OR starts_with(${id}, ${quoteLiteral(ZERO_DATE)}) THEN NULL ELSE coalesce(${isoTemporalSql(id, t)}, ${fail}) END`;
      // The plain cast of the common spelling, where it parses, is what the checked parse gives (never a NULL or zero date).
      if (t === 'TIMESTAMPTZ') return checked;
      return `coalesce(${t === 'TIMESTAMP' ? plainIsoTimestampSql(id) : plainIsoDateSql(id)}, ${checked})`;
    }
    default:
      return assertNever(t);
  }
}

/**
 * `SELECT` of the planned columns from CSV files whose columns are `fileColumns`. With `native`, numbers, booleans and
 * TIMESTAMPTZ are parsed by the CSV reader itself (about a third faster; it accepts the same spellings, booleans
 * yes/no included, but fails on zero dates and on any value it cannot parse); otherwise every column is read as text
 * and converted in SQL (zero dates → NULL, and errors that name the column and value). DATE and TIMESTAMP are always
 * read as text: the reader parses a DATE dropping a time of day and an offset, and a TIMESTAMP dropping an offset,
 * and reading a TIMESTAMP as TIMESTAMPTZ then casting it back through ICU cost more than the text conversion, whose
 * plain cast of the common spelling goes first (2M rows of the sync-keboola benchmark: about 2.6 s of CPU for the
 * COPY against 1.7 s).
 */
export function csvSelectSql(files: readonly string[], fileColumns: readonly string[], header: boolean, plan: readonly PlannedColumn[], native = false): string {
  const byName = new Map(plan.map((c) => [c.name, c]));
  const isNative = (c: PlannedColumn | undefined): boolean => native && c !== undefined && c.type !== 'VARCHAR' && c.type !== 'DATE' && c.type !== 'TIMESTAMP';
  const read = fileColumns.map((name): ReadColumn => {
    const column = byName.get(name);
    return { name, type: isNative(column) ? (column as PlannedColumn).type : 'VARCHAR' };
  });
  const exprs = plan.map((c) => {
    const id = quoteIdentifier(c.name);
    return `${isNative(c) ? id : fromTextSql(id, c)} AS ${id}`;
  });
  return `SELECT ${exprs.join(', ')} FROM ${readCsvSql(files, read, header)}`;
}

/** True for DuckDB's own conversion failures (a native read met a value it could not parse). */
export function isNativeConversionError(message: string): boolean {
  return /Conversion Error|Could not convert string/.test(message) && !message.includes(CAST_MARKER);
}

/** `SELECT` of the planned columns from Parquet files whose column types are `fileTypes`: text is converted as CSV is, other types cast. */
export function parquetSelectSql(files: readonly string[], fileTypes: ReadonlyMap<string, string>, plan: readonly PlannedColumn[]): string {
  const exprs = plan.map((c) => {
    const id = quoteIdentifier(c.name);
    const fileType = (fileTypes.get(c.name) ?? 'VARCHAR').toUpperCase();
    const expr = fileType === 'VARCHAR' ? fromTextSql(id, c) : sameType(fileType, c.type) ? id : `CAST(${id} AS ${c.type})`;
    return `${expr} AS ${id}`;
  });
  return `SELECT ${exprs.join(', ')} FROM read_parquet(${fileList(files)})`;
}

/** A `SELECT` of no rows with the planned schema (an export that returned nothing still publishes typed columns). */
export function emptySelectSql(plan: readonly PlannedColumn[]): string {
  return `SELECT ${plan.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdentifier(c.name)}`).join(', ')} WHERE false`;
}

/** What a failed conversion says, or undefined for other errors. */
export function parseCastFailure(message: string): { type: string; column: string; value: string } | undefined {
  const at = message.indexOf(CAST_MARKER);
  if (at === -1) return undefined;
  const m = /^([A-Z]+)\|("(?:[^"\\]|\\.)*")\|([\s\S]*)$/.exec(message.slice(at + CAST_MARKER.length));
  if (!m) return undefined;
  const value = (m[3] as string).split('\n\nLINE ')[0] as string;
  return { type: m[1] as string, column: JSON.parse(m[2] as string) as string, value };
}

function sameType(duckType: string, published: PublishedType): boolean {
  if (duckType === published) return true;
  return published === 'TIMESTAMPTZ' && duckType === 'TIMESTAMP WITH TIME ZONE';
}
