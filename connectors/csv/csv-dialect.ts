/** How a table's CSV files are written (delimiter, quoting, header, encoding, null marker), validated from its `csv:` options. */
import type { CsvOptions, TableConfig } from '../../config/index.ts';
import { adaError, ErrorCode } from '../../events/index.ts';
import { quoteLiteral } from '../../pipeline/sql/where-filters.ts';

/** Encodings DuckDB's CSV reader supports without extensions. */
export type CsvEncoding = 'utf-8' | 'utf-16' | 'latin-1';

/** Validated parsing options of one table. */
export interface CsvDialect {
  delimiter: string;
  /** Empty: fields are never quoted. */
  quote: string;
  escape: string;
  header: boolean;
  encoding: CsvEncoding;
  /** Longest record DuckDB reads, in bytes (`csv.max_line_size`). */
  maxLineSize: number;
  /** `csv.null`: the text read as NULL in every column, text columns included; `""` makes empty fields NULL everywhere. Absent: empty fields are NULL except in text columns. */
  nullString?: string;
}

const ENCODINGS: Record<string, CsvEncoding> = {
  utf8: 'utf-8', utf8bom: 'utf-8',
  utf16: 'utf-16', utf16le: 'utf-16', ucs2: 'utf-16',
  latin1: 'latin-1', iso88591: 'latin-1', l1: 'latin-1',
};

/** DuckDB's own default record limit, and the most `csv.max_line_size` may raise it to (DuckDB holds a record in memory). */
export const DEFAULT_MAX_LINE_SIZE = 2_000_000;
const MAX_MAX_LINE_SIZE = 1024 * 1024 * 1024;

/** DuckDB accepts delimiters of up to 4 bytes. */
const MAX_DELIMITER_BYTES = 4;

/** Reads and checks a table's `csv:` options; defaults: `,`, `"`, escape = quote, header, UTF-8, DuckDB's 2,000,000-byte record limit. */
export function csvDialect(table: TableConfig): CsvDialect {
  const options: CsvOptions = table.csv ?? {};
  const where = `table ${table.id} (${table.location.file}:${table.location.line})`;
  const invalid = (message: string): never => {
    throw adaError(ErrorCode.configInvalid, `${where}: ${message}`, { table: table.id, file: table.location.file, line: table.location.line });
  };
  const delimiter = options.delimiter ?? ',';
  if (delimiter === '' || Buffer.byteLength(delimiter) > MAX_DELIMITER_BYTES || /[\r\n]/.test(delimiter)) {
    invalid(`csv.delimiter must be 1 to ${MAX_DELIMITER_BYTES} bytes and not a line break, got ${JSON.stringify(delimiter)}`);
  }
  const quote = options.quote ?? '"';
  if (Buffer.byteLength(quote) > 1) invalid(`csv.quote must be one ASCII character or empty, got ${JSON.stringify(quote)}`);
  const escape = options.escape ?? quote;
  if (Buffer.byteLength(escape) > 1) invalid(`csv.escape must be one ASCII character or empty, got ${JSON.stringify(escape)}`);
  const encodingKey = (options.encoding ?? 'utf-8').toLowerCase().replace(/[-_ ]/g, '');
  const encoding = ENCODINGS[encodingKey];
  if (!encoding) invalid(`csv.encoding ${JSON.stringify(options.encoding)} is not supported; use utf-8, utf-16 or latin-1`);
  const maxLineSize = options.maxLineSize ?? DEFAULT_MAX_LINE_SIZE;
  if (!Number.isSafeInteger(maxLineSize) || maxLineSize < 1 || maxLineSize > MAX_MAX_LINE_SIZE) {
    invalid(`csv.max_line_size must be a number of bytes from 1 to ${MAX_MAX_LINE_SIZE}, got ${JSON.stringify(options.maxLineSize)}`);
  }
  const dialect: CsvDialect = { delimiter, quote, escape, header: options.header ?? true, encoding: encoding as CsvEncoding, maxLineSize };
  if (options.null !== undefined) dialect.nullString = options.null;
  return dialect;
}

/** The dialect part of a `read_csv(…)` call: explicit everything, so DuckDB's sniffer never guesses skipped rows, comments or padding. */
export function dialectSql(dialect: CsvDialect): string {
  return [
    `delim=${quoteLiteral(dialect.delimiter)}`,
    `quote=${quoteLiteral(dialect.quote)}`,
    `escape=${quoteLiteral(dialect.escape)}`,
    `header=${dialect.header}`,
    `encoding=${quoteLiteral(dialect.encoding)}`,
    `skip=0`,
    `comment=''`,
    `strict_mode=true`,
    `null_padding=false`,
    `ignore_errors=false`,
    `max_line_size=${dialect.maxLineSize}`,
  ].join(', ');
}
