/** Builds the DuckDB SQL that reads one CSV file into a table's schema: a single `read_csv` with explicit columns plus conversions. */
import type { PublishedType } from '../../pipeline/index.ts';
import { quoteIdentifier, quoteLiteral } from '../../pipeline/index.ts';
import { instantAsTimestampSql, isoTemporalSql, plainIsoDateSql, plainIsoTimestampSql } from '../../pipeline/index.ts';
import type { CsvDialect } from './csv-dialect.ts';
import { dialectSql } from './csv-dialect.ts';
import type { ColumnPlan, FileShape } from './csv-schema.ts';
import { castFailureSql } from './duckdb-csv-error.ts';

/** MySQL-style zero dates, published as NULL; dates are read as text so they do not fail. */
const ZERO_DATE = '0000-00-00';
/** Zero-date spellings the sniffer treats as NULL, so a date column holding some still detects as a date. */
export const ZERO_DATES = [ZERO_DATE, `${ZERO_DATE} 00:00:00`];
/** The sniffer's name for plain ISO dates, which a cast parses faster than strptime. */
const ISO_DATE_FORMAT = '%Y-%m-%d';

/** A column as `read_csv` reads it; `keepEmpty` columns skip NULL matching so empty strings stay strings. */
export interface ReadColumn {
  name: string;
  type: PublishedType;
  keepEmpty?: boolean;
}

/**
 * The type a column is read as. DuckDB's reader parses VARCHAR, BIGINT, DOUBLE and BOOLEAN itself (fastest, and its errors
 * carry the line) unless `csv.null` is a non-empty marker: the reader cannot tell that marker from an empty string per
 * column, so then only VARCHAR is native. Dates and timestamps are always read as text (zero dates).
 */
export function readType(type: PublishedType, dialect: CsvDialect): PublishedType {
  if (type === 'VARCHAR') return type;
  const native = type === 'BIGINT' || type === 'DOUBLE' || type === 'BOOLEAN';
  return native && !dialect.nullString ? type : 'VARCHAR';
}

/**
 * The reader's NULL markers. Without `csv.null` the empty field is NULL (VARCHAR columns opt out with force_not_null);
 * with it only the marker is (`""`: the empty field, in every column), and empty fields of non-text columns become NULL in SQL.
 */
export function nullStrings(dialect: CsvDialect): string[] {
  return dialect.nullString === undefined ? [''] : [dialect.nullString];
}

/**
 * Bytes of the file DuckDB's reader holds per buffer. Its default, 16 times `max_line_size` (32 MB at the default
 * 2 MB), kept about 400 MB resident while a 5M-row file was read, which DuckDB then took 20–30 ms to free when the
 * instance closed; 8 MB buffers held about half of that, closed in 9–13 ms, and read as fast (bench/sync-csv.ts's
 * file: DuckDB's own per-thread share of a file is 8 MB). A buffer holds at least two records of the longest allowed
 * (DuckDB refuses one smaller than `max_line_size`).
 */
function readBufferBytes(dialect: CsvDialect): number {
  return Math.max(8_000_000, 2 * dialect.maxLineSize);
}

/** A `read_csv(…)` call with explicit column types (no auto-detection at read time). */
export function readCsvSql(path: string, dialect: CsvDialect, columns: ReadColumn[]): string {
  const struct = columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(', ');
  const text = columns.filter((c) => c.keepEmpty).map((c) => quoteLiteral(c.name));
  const options = [
    dialectSql(dialect),
    `buffer_size=${readBufferBytes(dialect)}`,
    'auto_detect=false',
    `columns={${struct}}`,
    `nullstr=[${nullStrings(dialect).map(quoteLiteral).join(', ')}]`,
  ];
  if (text.length > 0) options.push(`force_not_null=[${text.join(', ')}]`);
  return `read_csv(${quoteLiteral(path)}, ${options.join(', ')})`;
}

/** The file's columns as read: its own names (in file order) with each column's read type; published strings keep empty values. */
export function fileColumns(plan: ColumnPlan[], readNames: string[], dialect: CsvDialect): ReadColumn[] {
  const byName = new Map(plan.map((c) => [c.name, c]));
  return readNames.map((name) => {
    const type = byName.get(name)?.type ?? 'VARCHAR';
    return { name, type: readType(type, dialect), keepEmpty: type === 'VARCHAR' && dialect.nullString === undefined };
  });
}

/** `SELECT` of one file into the plan's columns and order, filtered by `predicate` (SQL over the output columns). */
export function selectFileSql(path: string, dialect: CsvDialect, plan: ColumnPlan[], shape: FileShape, readNames: string[], predicate: string): string {
  const present = new Set(readNames);
  const expressions = plan.map((column) => {
    const id = quoteIdentifier(column.name);
    if (!present.has(column.name)) return `CAST(NULL AS ${column.type}) AS ${id}`;
    const conversion = conversionSql(column, shape, dialect);
    if (!conversion) return id;
    const none = `CAST(NULL AS ${column.type})`;
    const fail = castFailureSql(column.name, column.type, id);
    // Most values take the fast parse; the NULL checks and the full parse run only for the rows it leaves NULL.
    if (conversion.fast === conversion.parsed) return `coalesce(${conversion.parsed}, CASE WHEN ${conversion.isNull} THEN ${none} ELSE ${fail} END) AS ${id}`;
    const checked = `CASE WHEN ${conversion.isNull} THEN ${none} ELSE coalesce(${conversion.parsed}, ${fail}) END`;
    return `${conversion.fast ? `coalesce(${conversion.fast}, ${checked})` : checked} AS ${id}`;
  });
  const inner = `SELECT ${expressions.join(', ')} FROM ${readCsvSql(path, dialect, fileColumns(plan, readNames, dialect))}`;
  return predicate === 'TRUE' ? inner : `SELECT * FROM (${inner}) WHERE ${predicate}`;
}

/**
 * The first data row (1-based, as read) whose `column` does not convert, or NULL: the position our SQL conversions
 * cannot report themselves. DuckDB keeps the file's row order here (preserve_insertion_order).
 */
export function locateBadRowSql(path: string, dialect: CsvDialect, plan: ColumnPlan[], shape: FileShape, readNames: string[], column: string): string | undefined {
  const target = plan.find((c) => c.name === column);
  const conversion = target ? conversionSql(target, shape, dialect) : undefined;
  if (!conversion) return undefined;
  const read = readCsvSql(path, dialect, fileColumns(plan, readNames, dialect));
  return `SELECT min(rn) AS rn FROM (SELECT row_number() OVER () AS rn, ${quoteIdentifier(column)} FROM ${read}) `
    + `WHERE NOT (${conversion.isNull}) AND ${conversion.parsed} IS NULL`;
}

/**
 * For a column read as text but published as another type: when it is NULL, and the parse (NULL when the text does not
 * fit). `fast`, when given, is a cheaper parse of the common spelling: where it is not NULL, `isNull` is false and
 * `parsed` gives the same value (it may be `parsed` itself).
 */
function conversionSql(column: ColumnPlan, shape: FileShape, dialect: CsvDialect): { isNull: string; parsed: string; fast?: string } | undefined {
  if (readType(column.type, dialect) === column.type) return undefined;
  const id = quoteIdentifier(column.name);
  const empty = `${id} IS NULL OR ${id} = ''`;
  switch (column.type) {
    case 'BIGINT':
    case 'DOUBLE':
    case 'BOOLEAN': {
      // The casts refuse empty text, so a value they parse is no NULL.
      const parsed = `TRY_CAST(${id} AS ${column.type})`;
      return { isNull: empty, parsed, fast: parsed };
    }
    case 'DATE':
    case 'TIMESTAMP':
    case 'TIMESTAMPTZ': {
      const isNull = `${empty} OR starts_with(${id}, ${quoteLiteral(ZERO_DATE)})`;
      const parsed = parseDateSql(id, column, shape);
      // The ISO parse of a TIMESTAMP or DATE gives what a plain cast of the common spelling gives, which can go first on its own.
      if (sniffedFormat(column, shape) !== undefined || column.type === 'TIMESTAMPTZ') return { isNull, parsed };
      return { isNull, parsed, fast: column.type === 'TIMESTAMP' ? plainIsoTimestampSql(id) : plainIsoDateSql(id) };
    }
    default:
      return undefined;
  }
}

/** Parses text with the format the sniffer found in this file (a TIMESTAMP through TIMESTAMPTZ, as below), or as ISO text. */
function parseDateSql(id: string, column: ColumnPlan, shape: FileShape): string {
  const format = sniffedFormat(column, shape);
  if (format !== undefined) {
    const via = column.type === 'TIMESTAMP' ? 'TIMESTAMPTZ' : column.type;
    const parsed = `TRY_CAST(try_strptime(${id}, ${quoteLiteral(format)}) AS ${via})`;
    return via === column.type ? parsed : instantAsTimestampSql(parsed);
  }
  return isoTemporalSql(id, column.type as 'DATE' | 'TIMESTAMP' | 'TIMESTAMPTZ');
}


/** The date or timestamp format the sniffer found for the column in this file, unless it is plain ISO (a cast reads that). */
function sniffedFormat(column: ColumnPlan, shape: FileShape): string | undefined {
  const detected = shape.detected?.get(column.name)?.type;
  const format = detected === 'DATE' ? shape.dateFormat : detected === 'TIMESTAMP' ? shape.timestampFormat : undefined;
  return format === ISO_DATE_FORMAT ? undefined : format;
}

/** A full read of every column as text: surfaces tokenizer problems (field counts, quotes, encoding) with DuckDB's line numbers. */
export function scanAllTextSql(path: string, dialect: CsvDialect, names: string[]): string {
  const read = readCsvSql(path, dialect, names.map((name) => ({ name, type: 'VARCHAR' })));
  return `SELECT ${names.map((n) => `count(${quoteIdentifier(n)})`).join(' + ')} FROM ${read}`;
}
