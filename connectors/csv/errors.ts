/** Error codes of the CSV connector. */
import { ErrorCode } from '../../events/index.ts';

/** Stable codes of CSV failures, checked by `hasCode`. */
export const CsvErrorCode = {
  /** A file's content or layout is wrong; the message names the file, line and column. */
  invalid: 'CSV_INVALID',
  /** A read failed for a reason other than the file's content (DuckDB's first message line says which). */
  readFailed: 'CSV_READ_FAILED',
  /** A run stopped by its abort signal or by `close()`. */
  cancelled: ErrorCode.cancelled,
} as const;
