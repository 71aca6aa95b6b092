/**
 * Against a real Keboola project, only when KEBOOLA_TEST_TOKEN and KEBOOLA_TEST_URL are set (a read-only token is
 * enough). KEBOOLA_TEST_TABLE picks the table to export; otherwise the smallest non-empty table the token can read.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { KeboolaClient } from '../../../connectors/keboola/client.ts';
import { KeboolaConnector } from '../../../connectors/keboola/keboola-connector.ts';
import type { TableDetail } from '../../../connectors/keboola/index.ts';
import { chunks, complete, keboolaTable, request, run } from '../../fixtures/keboola/keboola-fixtures.ts';
import { readParquet } from '../../helpers/parquet.ts';

const token = process.env.KEBOOLA_TEST_TOKEN;
const stackUrl = process.env.KEBOOLA_TEST_URL;
const skip = token && stackUrl ? false : 'live Keboola tests need KEBOOLA_TEST_TOKEN and KEBOOLA_TEST_URL (e.g. https://connection.keboola.com); skipped';
/** Exports of real tables are slow; keep the live test to small tables. */
const MAX_LIVE_ROWS = 1_000_000;

describe('Keboola connector against a live project', { skip, timeout: 15 * 60_000 }, () => {
  const client = (): KeboolaClient => new KeboolaClient({ stackUrl: stackUrl as string, token: token as string });

  async function pickTable(): Promise<TableDetail | undefined> {
    const tables = await client().listTables();
    const wanted = process.env.KEBOOLA_TEST_TABLE;
    if (wanted) return tables.find((t) => t.id === wanted);
    return tables.filter((t) => (t.rowsCount ?? 0) > 0 && (t.rowsCount ?? 0) <= MAX_LIVE_ROWS).sort((a, b) => (a.rowsCount ?? 0) - (b.rowsCount ?? 0))[0];
  }

  it('verifies the token and lists buckets and tables with metadata', async () => {
    const info = await client().verifyToken();
    assert.ok(info.id);
    const buckets = await client().listBuckets();
    const tables = await client().listTables();
    assert.ok(Array.isArray(buckets) && Array.isArray(tables));
    for (const t of tables) assert.ok(Array.isArray(t.columns), `table ${t.id} lists its columns`);
  });

  for (const format of ['parquet', 'csv'] as const) {
    it(`exports a table as ${format} into one typed Parquet chunk`, async (t) => {
      const table = await pickTable();
      if (!table) {
        t.skip('no table with 1 to 1,000,000 rows (set KEBOOLA_TEST_TABLE)');
        return;
      }
      const root = await mkdtemp(path.join(os.tmpdir(), 'ada-kbc-live-'));
      const connector = new KeboolaConnector({ stackUrl: stackUrl as string, token: token as string, exportFormat: format });
      try {
        const events = await run(connector, await request(root, keboolaTable({ id: table.id }), { now: new Date() }));
        const staged = chunks(events);
        assert.equal(staged.length, 1);
        assert.deepEqual(staged[0]!.schema.map((c) => c.name), table.columns);
        const back = await readParquet(staged[0]!.path);
        assert.equal(back.length, staged[0]!.rows);
        const md = complete(events).metadata as Record<string, unknown>;
        assert.equal(md.tableId, table.id);
        assert.ok(!JSON.stringify(events).includes(token as string));
      } finally {
        await connector.close();
        await rm(root, { recursive: true, force: true });
      }
    });
  }
});
