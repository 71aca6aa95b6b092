/** Public face of the CSV connector: tables read from CSV files under `data_source.csv.dir`. */
export { csvConnector, CsvConnector } from './csv-connector.ts';
export { CsvErrorCode } from './errors.ts';
export type { CsvCursor, CsvFileState } from './csv-cursor.ts';
export { CSV_INVALID, resolveTableFiles } from './table-files.ts';
export type { TableFile } from './table-files.ts';
export type { CsvDialect } from './csv-dialect.ts';
