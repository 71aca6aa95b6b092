/** How a table's CSV files are written (delimiter, quoting, header, encoding, null marker), validated from its `csv:` options. */
import type { TableConfig } from '../../config/index.ts';
import type { CsvOptions } from './csv-config.ts';
import { adaError, ErrorCode } from '../../events/index.ts';
import { quoteLiteral } from '../../pipeline/index.ts';

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
  /** An extra marker read as NULL, besides the empty field. */
  nullString?: string;
}

const ENCODINGS: Record<string, CsvEncoding> = {
  utf8: 'utf-8', utf8bom: 'utf-8',
  utf16: 'utf-16', utf16le: 'utf-16', ucs2: 'utf-16',
  latin1: 'latin-1', iso88591: 'latin-1', l1: 'latin-1',
};

/** DuckDB accepts delimiters of up to 4 bytes. */
const MAX_DELIMITER_BYTES = 4;

/** Reads and checks a table's `csv:` options; defaults: `,`, `"`, escape = quote, header, UTF-8. */
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
  const dialect: CsvDialect = { delimiter, quote, escape, header: options.header ?? true, encoding: encoding as CsvEncoding };
  if (options.null !== undefined && options.null !== '') dialect.nullString = options.null;
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
  ].join(', ');
}
