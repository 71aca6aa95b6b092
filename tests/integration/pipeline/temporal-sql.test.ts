import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { isoTemporalSql, plainIsoDateSql, plainIsoTimestampSql } from '../../../pipeline/index.ts';
import { epochOf, OFFSET_INSTANTS } from '../../helpers/instants.ts';

/** Each text parsed by `isoTemporalSql(…, 'TIMESTAMP')` (or `sql`) in a UTC session, as ISO text (NULL as null). */
async function parseAsTimestamps(texts: string[], sql: (id: string) => string = (id) => isoTemporalSql(id, 'TIMESTAMP')): Promise<Array<string | null>> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    const values = texts.map((t, i) => `(${i}, '${t.replaceAll("'", "''")}')`).join(', ');
    const query = `SELECT ${sql('v')}::VARCHAR AS ts FROM (VALUES ${values}) t(i, v) ORDER BY i`;
    return (await conn.runAndReadAll(query)).getRowsJson().map((r) => (r[0] === null ? null : String(r[0])));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** The same texts through ICU's TIMESTAMPTZ cast and back to TIMESTAMP: the instant in UTC, what isoTemporalSql must give. */
async function castThroughTimestamptz(texts: string[]): Promise<Array<string | null>> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    const values = texts.map((t, i) => `(${i}, '${t.replaceAll("'", "''")}')`).join(', ');
    const sql = `SELECT CAST(TRY_CAST(v AS TIMESTAMPTZ) AS TIMESTAMP)::VARCHAR AS ts FROM (VALUES ${values}) t(i, v) ORDER BY i`;
    return (await conn.runAndReadAll(sql)).getRowsJson().map((r) => (r[0] === null ? null : String(r[0])));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('isoTemporalSql TIMESTAMP', () => {
  it('reads text shaped like YYYY-MM-DD HH:MM:SS by a plain cast, and anything else that shape could hide an offset in as an instant', async () => {
    // 19-byte texts, some with an offset or zone in the bytes a plain timestamp would hold, and texts around them.
    const texts = [
      '2024-01-01 10:00:00', '2024-01-01T10:00:00', '2024-01-01 24:00:00', '2024-02-30 10:00:00', '2024-01-01 10:00:0Z',
      '2024-1-1 1:00:00+05', '224-1-1 10:00:00-05', '2024-01-1 1:00:00+5', '2024-1-1 10:00:00Z', '2024-01-01 1:00:00Z',
      '2024-1-1 1:00+05:30', '2024-01-01 10:00-05', '2024-01-01 10:00+05', '2024-01-01 10:00 Z', '2024-01-01T1:00:00Z',
      ' 2024-01-01 10:00:0', '2024-01-01 10:00:00 ', '12024-01-01 0:00:00', '2024-01-01 10:0:00', '2024-01-01 10:00 UTC',
      '2024-01-01 10:00:00+02', '2024-01-01 10:00:00.5-01', '2024-01-01', 'infinity', '-infinity', 'Infinity', '', 'x'.repeat(19),
      '2024-01-01 10:00:00 America/New_York', '2024-07-01 10:00:00 Europe/Prague',
    ];
    assert.ok(texts.filter((t) => Buffer.byteLength(t) === 19).length >= 12, 'most texts have the plain shape\'s length');
    assert.deepEqual(await parseAsTimestamps(texts), await castThroughTimestamptz(texts));
  });

  it('agrees with the TIMESTAMPTZ cast on every YYYY-MM-DD HH:MM followed by three characters of times, offsets and zones', async () => {
    const chars = [...'0123456789+-: ZzTUCESGMAPD./()'];
    const texts: string[] = [];
    for (const head of ['2024-07-01T10:00', ' 2024-07-01 1:00']) {
      for (const a of chars) for (const b of chars) for (const c of chars) texts.push(`${head}${a}${b}${c}`);
    }
    const [ours, theirs] = await Promise.all([parseAsTimestamps(texts), castThroughTimestamptz(texts)]);
    const differ = texts.filter((_, i) => ours[i] !== theirs[i]);
    assert.deepEqual(differ, []);
    assert.ok(theirs.filter((t) => t !== null).length > 100, 'many of them are timestamps');
  });

  it('holds the instant each text names, in UTC, whatever its offset', async () => {
    const parsed = await parseAsTimestamps(OFFSET_INSTANTS);
    assert.deepEqual(parsed.map((p) => (p === null ? null : Date.parse(`${p.replace(' ', 'T')}Z`) / 1000)), OFFSET_INSTANTS.map(epochOf));
  });

  it('keeps microseconds, infinities and dates far from the epoch, and is NULL for text that is no timestamp', async () => {
    assert.deepEqual(await parseAsTimestamps(['2024-03-01 10:00:00.123456', '2024-03-01', 'infinity', '-infinity', '0001-01-01 00:00:00', '1969-12-31 23:59:59.5+00:30', 'garbage', '']), [
      '2024-03-01 10:00:00.123456', '2024-03-01 00:00:00', 'infinity', '-infinity', '0001-01-01 00:00:00', '1969-12-31 23:29:59.5', null, null,
    ]);
  });

  it('has a plain first step that, where it parses, gives the same value, and never parses empty text or a zero date', async () => {
    const chars = [...'0123456789+-: ZzT'];
    const texts = ['', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 10:00:00', '0000-00-00T00:00:00', '2024-01-01 10:00:00', '2024-01-01T10:00:00', 'infinity'];
    for (const a of chars) for (const b of chars) for (const c of chars) texts.push(`2024-07-01 10:00${a}${b}${c}`, `0000-00-00 00:00${a}${b}${c}`);
    const [plain, full] = await Promise.all([parseAsTimestamps(texts, plainIsoTimestampSql), parseAsTimestamps(texts)]);
    const differ = texts.filter((_, i) => plain[i] !== null && plain[i] !== full[i]);
    assert.deepEqual(differ, []);
    const zeroOrEmpty = texts.filter((t, i) => plain[i] !== null && (t === '' || t.startsWith('0000-00-00')));
    assert.deepEqual(zeroOrEmpty, []);
    assert.equal(plain[texts.indexOf('2024-01-01 10:00:00')], '2024-01-01 10:00:00');
    assert.ok(plain.filter((t) => t !== null).length >= 60, 'the common spelling parses (every second of a minute)');
  });
});

describe('isoTemporalSql DATE', () => {
  it('has a plain first step that, where it parses, gives the same date, and never parses a time, an offset, empty text or a zero date', async () => {
    const chars = [...'0123456789+-: ZzT'];
    const texts = ['', '0000-00-00', '0000-00-00 00:00:00', '2024-01-01', '2024-02-30', '2024-01-01 00:00:00', '2024-01-01T00:00:00Z', '9999-12-31', '0001-01-01', '-2024-01-01'];
    // Ten bytes (the plain spelling's length) and one more, with times, offsets and zones where the day would be.
    for (const head of ['2024-07-', '2024-7-', '24-07-0', '2024-07', '0000-00-', '2024-07-0']) {
      for (const a of chars) for (const b of chars) {
        texts.push(`${head}${a}${b}`);
        if (head.length < 9) for (const c of chars) texts.push(`${head}${a}${b}${c}`);
      }
    }
    const date = (id: string): string => isoTemporalSql(id, 'DATE');
    const [plain, full] = await Promise.all([parseAsTimestamps(texts, plainIsoDateSql), parseAsTimestamps(texts, date)]);
    assert.deepEqual(texts.filter((_, i) => plain[i] !== null && plain[i] !== full[i]), []);
    assert.deepEqual(texts.filter((t, i) => plain[i] !== null && (t === '' || t.startsWith('0000-00-00'))), []);
    assert.deepEqual(['2024-01-01', '2024-02-30', '9999-12-31'].map((t) => plain[texts.indexOf(t)]), ['2024-01-01', null, '9999-12-31']);
    assert.ok(plain.filter((t) => t !== null).length >= 31, 'the common spelling parses (every day of July)');
  });
});
