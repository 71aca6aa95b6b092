import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { partitionFilterSql, partitionKeySql } from '../../../pipeline/projections/parquet/index.ts';

/** Instants around period edges (37-minute steps over two days either side of new year, month ends), NULL, and far years. */
const INSTANTS = `SELECT TIMESTAMPTZ '2023-12-30 00:00:00+00' + INTERVAL (i * 37) MINUTE AS x FROM range(0, 200) r(i)
  UNION ALL SELECT TIMESTAMPTZ '2024-02-29 23:59:59.999999+00' UNION ALL SELECT TIMESTAMPTZ '2024-03-01 00:00:00+00'
  UNION ALL SELECT NULL UNION ALL SELECT TIMESTAMPTZ '9999-12-31 23:00:00+00' UNION ALL SELECT TIMESTAMPTZ '1000-01-01 00:00:00+00'
  UNION ALL SELECT TIMESTAMPTZ '0999-12-31 23:59:59+00'`;

describe('partitionFilterSql', () => {
  let db: DuckDBInstance;
  let conn: DuckDBConnection;
  before(async () => {
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
    // Not UTC: the filter of a TIMESTAMPTZ must not depend on the session's time zone, as the key does not.
    await conn.run(`SET TimeZone = 'America/New_York'`);
  });
  after(() => {
    conn.closeSync();
    db.closeSync();
  });

  for (const type of ['DATE', 'TIMESTAMP', 'TIMESTAMPTZ', 'VARCHAR']) {
    for (const granularity of ['year', 'month', 'day'] as const) {
      it(`selects exactly the rows whose key it names (${type}, ${granularity})`, async () => {
        const value = type === 'VARCHAR' ? `strftime(x AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') || '+00'` : `CAST(x AS ${type})`;
        await conn.run(`CREATE OR REPLACE TABLE t AS SELECT ${value} AS "ts" FROM (${INSTANTS})`);
        const key = partitionKeySql('t', 'ts', type, granularity);
        const keys = (await conn.runAndReadAll(`SELECT DISTINCT ${key} FROM t`)).getRowsJson().map((r) => String(r[0]));
        assert.ok(keys.length >= 3, `keys ${keys.join(', ')}`);
        // Keys no row has, including ones that name no period.
        const others = granularity === 'day' ? ['2024_02_30', '2023_06_15'] : granularity === 'month' ? ['2024_13', '2023_06'] : ['2030'];
        for (const k of [...keys, ...others]) {
          const filter = partitionFilterSql('t', 'ts', type, granularity, k);
          const [wrong, selected] = (await conn.runAndReadAll(`SELECT count(*) FILTER (WHERE (${key} = '${k}') IS DISTINCT FROM coalesce(${filter}, false)),
            count(*) FILTER (WHERE ${filter}) FROM t`)).getRowsJson()[0]!;
          assert.equal(Number(wrong), 0, `${type} ${granularity} key ${k}: ${filter}`);
          if (keys.includes(k)) assert.ok(Number(selected) > 0, `key ${k} selects its rows`);
        }
      });
    }
  }

  it('compares a column of a date type as a range, a string column by its key', () => {
    assert.equal(partitionFilterSql('t', 'ts', 'TIMESTAMP', 'month', '2025_12'), `("ts" >= CAST('2025-12-01' AS TIMESTAMP) AND "ts" < CAST('2026-01-01' AS TIMESTAMP))`);
    assert.match(partitionFilterSql('t', 'ts', 'VARCHAR', 'month', '2025_12'), /strftime/);
    assert.match(partitionFilterSql('t', 'ts', 'DATE', 'month', '__null__'), /strftime/);
  });
});
