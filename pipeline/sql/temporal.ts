/** SQL that parses ISO date and timestamp text without losing what the text says (an offset, a time of day). */

/**
 * ISO text to a date or timestamp, NULL when it does not parse or would lose information. A cast straight to TIMESTAMP
 * drops a UTC offset, so a TIMESTAMP goes through TIMESTAMPTZ (the session zone is UTC) and holds the instant in UTC;
 * a cast to DATE drops a time of day and an offset, so a DATE parses only when its text is midnight UTC.
 */
export function isoTemporalSql(id: string, type: 'DATE' | 'TIMESTAMP' | 'TIMESTAMPTZ'): string {
  if (type === 'TIMESTAMP') return `CAST(TRY_CAST(${id} AS TIMESTAMPTZ) AS TIMESTAMP)`;
  if (type === 'TIMESTAMPTZ') return `TRY_CAST(${id} AS TIMESTAMPTZ)`;
  return `CASE WHEN TRY_CAST(${id} AS TIMESTAMPTZ) = CAST(TRY_CAST(${id} AS DATE) AS TIMESTAMPTZ) THEN TRY_CAST(${id} AS DATE) END`;
}
