/** SQL that parses ISO date and timestamp text without losing what the text says (an offset, a time of day). */

/**
 * ISO text to a date or timestamp, NULL when it does not parse or would lose information. A cast straight to TIMESTAMP
 * drops a UTC offset, so a TIMESTAMP goes through TIMESTAMPTZ (the session zone is UTC) and holds the instant in UTC;
 * a cast to DATE drops a time of day and an offset, so a DATE parses only when its text is midnight UTC.
 */
export function isoTemporalSql(id: string, type: 'DATE' | 'TIMESTAMP' | 'TIMESTAMPTZ'): string {
  if (type === 'TIMESTAMP') return isoTimestampSql(id);
  if (type === 'TIMESTAMPTZ') return `TRY_CAST(${id} AS TIMESTAMPTZ)`;
  return `CASE WHEN TRY_CAST(${id} AS TIMESTAMPTZ) = CAST(TRY_CAST(${id} AS DATE) AS TIMESTAMPTZ) THEN TRY_CAST(${id} AS DATE) END`;
}

/**
 * A TIMESTAMPTZ as the TIMESTAMP of the same instant in UTC. Through its epoch microseconds: a cast between the two
 * goes through ICU's calendar in the session zone, more than twice the cost of parsing the text (2.5M values:
 * 2.8 s against 1.2 s). `epoch_us` is NULL for ±infinity, which the cast keeps.
 */
export function instantAsTimestampSql(tz: string): string {
  return `coalesce(make_timestamp(epoch_us(${tz})), CAST(${tz} AS TIMESTAMP))`;
}

/**
 * ISO text to the TIMESTAMP of the instant it names, in UTC. Text of 19 bytes whose first colon is at 14 has the shape
 * `YYYY-MM-DD HH:MM` plus three bytes: `:SS`, or an offset or zone that the plain cast to TIMESTAMP refuses (`+05`,
 * `UTC`: NULL, so the TIMESTAMPTZ cast decides), or `Z`, which is UTC. So a plain cast, which would drop an offset it
 * accepted, reads such text as the TIMESTAMPTZ cast does in a UTC session, at less than the cost of ICU's parse
 * (the CSV connector's conversion of 1M values: about 160 ms of CPU against 75). A test holds DuckDB's parser to this
 * over every tail of three bytes from the characters of offsets and zones. Other text, and text the plain cast
 * refuses, goes through TIMESTAMPTZ; ±infinity comes from the plain cast, since `epoch_us` has none. The TIMESTAMPTZ
 * cast is written once: DuckDB computes an expression that occurs twice for every row, before a CASE could skip it.
 */
function isoTimestampSql(id: string): string {
  const plain = `TRY_CAST(${id} AS TIMESTAMP)`;
  return `coalesce(${plainIsoTimestampSql(id)}, make_timestamp(epoch_us(TRY_CAST(${id} AS TIMESTAMPTZ))), CASE WHEN isinf(${plain}) THEN ${plain} END)`;
}

/**
 * The cheap first step of `isoTemporalSql(id, 'TIMESTAMP')`: the plain cast of text shaped like `YYYY-MM-DD HH:MM:SS`
 * (19 bytes, first colon at 14), NULL for any other text. Where it is not NULL, `isoTemporalSql` gives the same value,
 * and the text is neither empty nor a zero date (`0000-00-00…` has no month, so the cast refuses it): a caller may
 * try it before its NULL checks and the full parse, which then run only for the rows it left NULL.
 */
export function plainIsoTimestampSql(id: string): string {
  return `CASE WHEN strlen(${id}) = 19 AND strpos(${id}, ':') = 14 THEN TRY_CAST(${id} AS TIMESTAMP) END`;
}

/**
 * The cheap first step of `isoTemporalSql(id, 'DATE')`: the DATE of text that is exactly how DuckDB writes that date
 * (`YYYY-MM-DD`, 10 bytes), NULL for any other text. Such text has no time of day or offset, so `isoTemporalSql`
 * gives the same date, about five times slower (its check goes through ICU's TIMESTAMPTZ cast); a plain cast would
 * also take `2024-1-1 5` or `2024-01-1Z`. It is never empty text or a zero date (written back, neither reads the same).
 */
export function plainIsoDateSql(id: string): string {
  return `CASE WHEN strlen(${id}) = 10 AND CAST(TRY_CAST(${id} AS DATE) AS VARCHAR) = ${id} THEN TRY_CAST(${id} AS DATE) END`;
}
