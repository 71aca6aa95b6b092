import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { FakeKeboola } from '../../fixtures/keboola/fake-keboola.ts';
import type { FakeKeboolaOptions, FakeTable } from '../../fixtures/keboola/fake-keboola.ts';
import { TOKEN } from '../../fixtures/keboola/keboola-fixtures.ts';
import { runCli } from '../../helpers/cli.ts';
import { query } from '../../helpers/instance.ts';
import { epochOf, OFFSET_INSTANTS } from '../../helpers/instants.ts';
import { tempDir } from '../../helpers/tmp.ts';

const VALUES = OFFSET_INSTANTS;

/** `zoned`: basetype TIMESTAMP with the backend type TIMESTAMP_TZ (what Snowflake tables report); `plain`: basetype TIMESTAMP only. */
const EVENTS: FakeTable = {
  id: 'in.c-shop.events',
  columns: ['id', 'zoned', 'plain'],
  primaryKey: ['id'],
  rowsCount: VALUES.length,
  dataSizeBytes: 1024,
  columnMetadata: {
    id: [{ key: 'KBC.datatype.basetype', value: 'INTEGER', provider: 'storage' }],
    zoned: [
      { key: 'KBC.datatype.type', value: 'TIMESTAMP_TZ', provider: 'storage' },
      { key: 'KBC.datatype.basetype', value: 'TIMESTAMP', provider: 'storage' },
    ],
    plain: [{ key: 'KBC.datatype.basetype', value: 'TIMESTAMP', provider: 'user' }],
  },
  rows: VALUES.map((v, i) => ({ id: String(i + 1), zoned: v, plain: v })),
};

async function syncEvents(t: TestContext, options: Partial<FakeKeboolaOptions>, table: FakeTable = EVENTS, expectedCode = 0) {
  const fake = await FakeKeboola.start({ token: TOKEN, tables: [structuredClone(table)], ...options });
  t.after(() => fake.close());
  const root = await tempDir(t, 'ada-kbc-ts-');
  const configDir = path.join(root, 'config');
  const dataDir = path.join(root, 'data');
  await mkdir(configDir, { recursive: true });
  await writeFile(path.join(configDir, 'instance.yaml'), [
    'instance:', '  name: Keboola timestamps',
    'auth:', '  allowed_domain: example.com', '  webapp_secret_key: test-secret-key-0123456789',
    'data_source:', '  type: keboola', '  keboola:', `    stack_url: ${fake.url}`, '    storage_token: ${KBC_TOKEN}', '',
  ].join('\n'));
  await writeFile(path.join(configDir, 'data_description.md'), '```yaml\nfolder_mapping:\n  in.c-shop: shop\ntables:\n'
    + '  - id: in.c-shop.events\n    name: events\n    description: Events\n    sync_strategy: full_refresh\n```\n');
  const result = await runCli(['sync', '--config', configDir, '--data', dataDir, '--json'], { KBC_TOKEN: TOKEN });
  assert.equal(result.code, expectedCode, result.stdout + result.stderr);
  return { file: path.join(dataDir, 'parquet', 'shop', 'events.parquet'), json: JSON.parse(result.stdout) as { tables: Array<{ error?: { code: string; message: string } }> } };
}

describe('Keboola timestamps with a UTC offset become the right instants', () => {
  for (const [label, options] of [
    ['a Parquet export', {}],
    ['a sliced CSV export', { parquet: false }],
    ['a single CSV export', { parquet: false, rowsPerSlice: 0 }],
  ] as const) {
    it(`from ${label}`, async (t) => {
      const { file } = await syncEvents(t, options);
      const types = await query(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file}'))`);
      assert.deepEqual(types.map((r) => `${r.column_name}:${r.column_type}`), ['id:BIGINT', 'zoned:TIMESTAMP WITH TIME ZONE', 'plain:TIMESTAMP']);
      const rows = await query(`SELECT epoch(zoned) AS zoned, epoch(plain) AS plain FROM read_parquet('${file}') ORDER BY id`);
      const expected = VALUES.map(epochOf);
      assert.deepEqual(rows.map((r) => r.zoned), expected, 'TIMESTAMP_TZ column');
      assert.deepEqual(rows.map((r) => r.plain), expected, 'TIMESTAMP column: offsets converted to UTC');
    });
  }
});

describe('Keboola DATE columns never drop a time of day or an offset', () => {
  const days = (values: string[]): FakeTable => ({
    ...EVENTS,
    columns: ['id', 'day'],
    columnMetadata: { id: EVENTS.columnMetadata!.id!, day: [{ key: 'KBC.datatype.basetype', value: 'DATE', provider: 'user' }] },
    rows: values.map((v, i) => ({ id: String(i + 1), day: v })),
  });
  for (const [label, options] of [['a Parquet export', {}], ['a CSV export', { parquet: false }]] as const) {
    it(`from ${label}: midnight UTC is a date, anything else is refused with column and value`, async (t) => {
      const { file } = await syncEvents(t, options, days(['2025-11-02', '2025-11-02 00:00:00', '2025-11-02T00:00:00Z']));
      assert.deepEqual((await query(`SELECT CAST("day" AS VARCHAR) AS d FROM read_parquet('${file}') ORDER BY id`)).map((r) => r.d), ['2025-11-02', '2025-11-02', '2025-11-02']);
      for (const value of ['2025-11-02 10:00:00', '2025-11-02T00:00:00+01:00']) {
        const { json } = await syncEvents(t, options, days(['2025-11-01', value]), 1);
        const error = json.tables[0]!.error!;
        assert.equal(error.code, 'KEBOOLA_TYPE_MISMATCH', error.message);
        assert.match(error.message, new RegExp(`column "day": "${value.replace('+', '\\+')}" is not a valid DATE`));
      }
    });
  }
});
