/** Which statistics a column gets, from the type DuckDB reports for it. */
import type { ColumnCategory } from './types.ts';

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$/;
const DATE = /^(DATE|TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMPTZ|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|DATETIME)$/;
const STRING = /^(VARCHAR|JSON|ENUM\(.*\))$/s;

/** The category of a DuckDB type name (`BIGINT`, `DECIMAL(10,2)`, `TIMESTAMP WITH TIME ZONE`, …); nested, binary, time-of-day and interval types are `other`. */
export function categoryOf(duckType: string): ColumnCategory {
  const t = duckType.trim().toUpperCase();
  if (NUMERIC.test(t)) return 'numeric';
  if (DATE.test(t)) return 'date';
  if (t === 'BOOLEAN') return 'boolean';
  if (STRING.test(t)) return 'string';
  return 'other';
}
