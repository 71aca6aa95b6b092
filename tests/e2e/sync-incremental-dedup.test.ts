import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { csvInstance, query } from '../helpers/instance.ts';

async function sync(flags: string[]) {
  const result = await runCli(['sync', ...flags, '--json']);
  return { ...result, json: JSON.parse(result.stdout || '{}') as { ok: boolean; tables: Array<{ table: string; status: string; rows: number }> } };
}

const ITEMS = (partition: string) => `  - id: csv.shop.items
    name: items
    description: Items
    primary_key: id
    sync_strategy: incremental
${partition}    file: items.csv
    columns:
      - {name: id, type: INTEGER}
      - {name: label, type: STRING}
      - {name: at, type: DATE}
`;

describe('ada sync: an incremental table deduplicates each batch by its primary key', () => {
  for (const [name, partition, glob] of [
    ['single file', '', 'parquet/shop/items.parquet'],
    ['partitioned', '    partition_by: at\n', 'parquet/shop/items/*.parquet'],
  ] as const) {
    it(`${name}: the first sync keeps the last row of a key in file order, and reports the published count`, async (t) => {
      const inst = await csvInstance(t, ITEMS(partition));
      await inst.writeCsv('items.csv', 'id,label,at\n1,a,2024-01-01\n1,b,2024-02-01\n2,c,2024-01-02\n');
      const first = await sync(inst.flags);
      assert.equal(first.code, 0, first.stderr + first.stdout);
      const file = path.join(inst.dataDir, glob);
      const rows = await query(`SELECT id, label FROM read_parquet('${file}') ORDER BY id`);
      assert.deepEqual(rows.map((r) => [r.id, r.label]), [[1, 'b'], [2, 'c']]);
      assert.equal(first.json.tables[0]!.rows, 2, 'the summary counts published rows');

      await inst.writeCsv('items.csv', 'id,label,at\n1,a,2024-01-01\n1,b,2024-02-01\n2,c,2024-01-02\n3,x,2024-01-03\n3,y,2024-01-04\n');
      const second = await sync(inst.flags);
      assert.equal(second.code, 0, second.stderr + second.stdout);
      assert.equal(second.json.tables[0]!.rows, 3, 'the run published ids 1, 2 and 3 once each');
      const after = await query(`SELECT id, label FROM read_parquet('${file}') ORDER BY id`);
      assert.deepEqual(after.map((r) => [r.id, r.label]), [[1, 'b'], [2, 'c'], [3, 'y']]);
    });
  }
});
