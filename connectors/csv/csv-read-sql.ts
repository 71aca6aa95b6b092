/** Builds the DuckDB SQL that reads one CSV file into a table's schema: a single `read_csv` with explicit columns plus conversions. */
import type { PublishedType } from '../../pipeline/column-types.ts';
import { quoteIdentifier, quoteLiteral } from '../../pipeline/sql/where-filters.ts';
import type { CsvDialect } from './csv-dialect.ts';
import { dialectSql } from './csv-dialect.ts';
import type { ColumnPlan, FileShape } from './csv-schema.ts';
import { castFailureSql } from './duckdb-csv-error.ts';

/** Dates are read as text so that MySQL-style zero dates become NULL instead of failing. */
const ZERO_DATE = '0000-00-00';
/** The zero-date spellings DuckDB's reader must treat as NULL when it parses dates itself. */
export const ZERO_DATES = [ZERO_DATE, `${ZERO_DATE} 00:00:00`];
/** The sniffer's name for plain ISO dates, which a cast parses faster than strptime. */
const ISO_DATE_FORMAT = '%Y-%m-%d';

/** Published types DuckDB's reader parses itself; the others are read as VARCHAR and converted in SQL. */
const NATIVE: ReadonlySet<PublishedType> = new Set(['VARCHAR', 'BIGINT', 'DOUBLE', 'BOOLEAN']);

/** The type a column is read as: dates and timestamps as VARCHAR, everything else natively. */
export function readType(type: PublishedType): PublishedType {
  return NATIVE.has(type) ? type : 'VARCHAR';
}

/** The NULL markers: the empty field, and the table's `csv.null` when set. */
function nullStrings(dialect: CsvDialect): string[] {
  return dialect.nullString === undefined ? [''] : ['', dialect.nullString];
}

/** A column as `read_csv` reads it; `keepEmpty` columns skip NULL matching so empty strings stay strings. */
export interface ReadColumn {
  name: string;
  type: PublishedType;
  keepEmpty?: boolean;
}

/** A `read_csv(…)` call with explicit column types (no auto-detection at read time). */
export function readCsvSql(path: string, dialect: CsvDialect, columns: ReadColumn[]): string {
  const struct = columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(', ');
  const text = columns.filter((c) => c.keepEmpty).map((c) => quoteLiteral(c.name));
  const options = [
    dialectSql(dialect),
    'auto_detect=false',
    `columns={${struct}}`,
    `nullstr=[${nullStrings(dialect).map(quoteLiteral).join(', ')}]`,
  ];
  if (text.length > 0) options.push(`force_not_null=[${text.join(', ')}]`);
  return `read_csv(${quoteLiteral(path)}, ${options.join(', ')})`;
}

/**
 * The file's columns as read: its own names (in file order) with each column's read type.
 * Published VARCHAR columns keep empty strings; every other type reads an empty field as NULL.
 */
export function fileColumns(plan: ColumnPlan[], readNames: string[]): ReadColumn[] {
  const byName = new Map(plan.map((c) => [c.name, c]));
  return readNames.map((name) => {
    const type = byName.get(name)?.type ?? 'VARCHAR';
    return { name, type: readType(type), keepEmpty: type === 'VARCHAR' };
  });
}

/** `SELECT` of one file into the plan's columns and order, filtered by `predicate` (SQL over the output columns). */
export function selectFileSql(path: string, dialect: CsvDialect, plan: ColumnPlan[], shape: FileShape, readNames: string[], predicate: string): string {
  const present = new Set(readNames);
  const expressions = plan.map((column) => {
    const id = quoteIdentifier(column.name);
    if (!present.has(column.name)) return `CAST(NULL AS ${column.type}) AS ${id}`;
    return `${convertSql(column, shape, dialect)} AS ${id}`;
  });
  const inner = `SELECT ${expressions.join(', ')} FROM ${readCsvSql(path, dialect, fileColumns(plan, readNames))}`;
  return predicate === 'TRUE' ? inner : `SELECT * FROM (${inner}) WHERE ${predicate}`;
}

/** The expression turning a read column into its published type; values that do not fit raise an error naming the column. */
function convertSql(column: ColumnPlan, shape: FileShape, dialect: CsvDialect): string {
  const id = quoteIdentifier(column.name);
  switch (column.type) {
    case 'VARCHAR':
      return dialect.nullString === undefined ? id : `NULLIF(${id}, ${quoteLiteral(dialect.nullString)})`;
    case 'BIGINT':
    case 'DOUBLE':
    case 'BOOLEAN':
      return id;
    case 'DATE':
    case 'TIMESTAMP':
    case 'TIMESTAMPTZ': {
      const parsed = parseSql(id, column, shape);
      return `CASE WHEN ${id} IS NULL OR starts_with(${id}, ${quoteLiteral(ZERO_DATE)}) THEN CAST(NULL AS ${column.type}) `
        + `ELSE coalesce(${parsed}, ${castFailureSql(column.name, column.type, id)}) END`;
    }
  }
}

/** Parses text with the format the sniffer found in this file, or by a plain cast for ISO text. */
function parseSql(id: string, column: ColumnPlan, shape: FileShape): string {
  const detected = shape.detected?.get(column.name)?.type;
  const format = detected === 'DATE' ? shape.dateFormat : detected === 'TIMESTAMP' ? shape.timestampFormat : undefined;
  if (format === undefined || format === ISO_DATE_FORMAT) return `TRY_CAST(${id} AS ${column.type})`;
  return `TRY_CAST(try_strptime(${id}, ${quoteLiteral(format)}) AS ${column.type})`;
}

/** A read that types only `column` natively (zero dates as NULL), so DuckDB's reader reports the line of the first bad value. */
export function locateBadValueSql(path: string, dialect: CsvDialect, plan: ColumnPlan[], shape: FileShape, readNames: string[], column: string): string {
  const target = plan.find((c) => c.name === column);
  const columns = readNames.map((name) => ({ name, type: name === column && target ? target.type : 'VARCHAR' as PublishedType }));
  const struct = columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(', ');
  const nulls = [...nullStrings(dialect), ...ZERO_DATES].map(quoteLiteral).join(', ');
  const detected = shape.detected?.get(column)?.type;
  const formats: string[] = [];
  if (detected === 'DATE' && shape.dateFormat) formats.push(`dateformat=${quoteLiteral(shape.dateFormat)}`);
  if (detected === 'TIMESTAMP' && shape.timestampFormat) formats.push(`timestampformat=${quoteLiteral(shape.timestampFormat)}`);
  const read = `read_csv(${[quoteLiteral(path), dialectSql(dialect), 'auto_detect=false', `columns={${struct}}`, `nullstr=[${nulls}]`, ...formats].join(', ')})`;
  return `SELECT count(${quoteIdentifier(column)}) FROM ${read}`;
}

/** A full read of every column as text: surfaces tokenizer problems (field counts, quotes, encoding) with DuckDB's line numbers. */
export function scanAllTextSql(path: string, dialect: CsvDialect, names: string[]): string {
  const read = readCsvSql(path, dialect, names.map((name) => ({ name, type: 'VARCHAR' })));
  return `SELECT ${names.map((n) => `count(${quoteIdentifier(n)})`).join(' + ')} FROM ${read}`;
}
