import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { isoTemporalSql } from '../../../pipeline/index.ts';
import { epochOf, OFFSET_INSTANTS } from '../../helpers/instants.ts';

/** Each text parsed by `isoTemporalSql(…, 'TIMESTAMP')` in a UTC session, as ISO text (NULL as null). */
async function parseAsTimestamps(texts: string[]): Promise<Array<string | null>> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    const values = texts.map((t, i) => `(${i}, '${t.replaceAll("'", "''")}')`).join(', ');
    const sql = `SELECT ${isoTemporalSql('v', 'TIMESTAMP')}::VARCHAR AS ts FROM (VALUES ${values}) t(i, v) ORDER BY i`;
    return (await conn.runAndReadAll(sql)).getRowsJson().map((r) => (r[0] === null ? null : String(r[0])));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('isoTemporalSql TIMESTAMP', () => {
  it('holds the instant each text names, in UTC, whatever its offset', async () => {
    const parsed = await parseAsTimestamps(OFFSET_INSTANTS);
    assert.deepEqual(parsed.map((p) => (p === null ? null : Date.parse(`${p.replace(' ', 'T')}Z`) / 1000)), OFFSET_INSTANTS.map(epochOf));
  });

  it('keeps microseconds, infinities and dates far from the epoch, and is NULL for text that is no timestamp', async () => {
    assert.deepEqual(await parseAsTimestamps(['2024-03-01 10:00:00.123456', '2024-03-01', 'infinity', '-infinity', '0001-01-01 00:00:00', '1969-12-31 23:59:59.5+00:30', 'garbage', '']), [
      '2024-03-01 10:00:00.123456', '2024-03-01 00:00:00', 'infinity', '-infinity', '0001-01-01 00:00:00', '1969-12-31 23:29:59.5', null, null,
    ]);
  });
});
