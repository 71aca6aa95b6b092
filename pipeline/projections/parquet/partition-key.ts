/** The partition key of a row (`2024_01`, `2024_01_31`, `2024`) as a DuckDB expression, and how keys look. */
import type { PartitionGranularity } from '../../../config/index.ts';
import { adaError } from '../../../events/index.ts';
import { quoteIdentifier, quoteLiteral } from '../../sql/where-filters.ts';
import { PipelineErrorCode } from '../../errors.ts';

/** The partition of rows whose partition column is NULL (or a string that is not a date). */
export const NULL_PARTITION = '__null__';

const FORMAT: Record<PartitionGranularity, string> = { month: '%Y_%m', day: '%Y_%m_%d', year: '%Y' };
const KEY_RE: Record<PartitionGranularity, RegExp> = {
  month: /^\d{4}_\d{2}$/,
  day: /^\d{4}_\d{2}_\d{2}$/,
  year: /^\d{4}$/,
};

/** Published types a partition column may have. */
const PARTITIONABLE = new Set(['DATE', 'TIMESTAMP', 'TIMESTAMPTZ', 'VARCHAR']);

/**
 * A SQL expression giving the partition key of `column` (of published type `type`).
 * TIMESTAMPTZ is keyed by its UTC wall time through epoch microseconds, so the key never depends on the session time zone;
 * VARCHAR is parsed as TIMESTAMPTZ (a cast to TIMESTAMP would drop a UTC offset) and keyed the same way; what does not
 * parse lands in NULL_PARTITION with the NULLs.
 */
export function partitionKeySql(table: string, column: string, type: string, granularity: PartitionGranularity): string {
  if (!PARTITIONABLE.has(type)) {
    throw adaError(PipelineErrorCode.partitionColumnInvalid, `table ${table}: partition column ${column} has type ${type}; partition_by needs a DATE, TIMESTAMP or date string column`, { table, column, type });
  }
  const col = quoteIdentifier(column);
  const instant = type === 'TIMESTAMPTZ' ? `make_timestamp(epoch_us(${col}))`
    : type === 'VARCHAR' ? `make_timestamp(epoch_us(TRY_CAST(${col} AS TIMESTAMPTZ)))`
      : col;
  return `COALESCE(strftime(${instant}, ${quoteLiteral(FORMAT[granularity])}), ${quoteLiteral(NULL_PARTITION)})`;
}

/** True when `key` is a partition key of the given granularity (or the NULL partition). */
export function isPartitionKey(key: string, granularity: PartitionGranularity): boolean {
  return key === NULL_PARTITION || KEY_RE[granularity].test(key);
}
