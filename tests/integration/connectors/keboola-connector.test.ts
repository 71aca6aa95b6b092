import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { hashFile, hasCode } from '../../../events/index.ts';
import { keboolaConnector, KeboolaErrorCode } from '../../../connectors/keboola/index.ts';
import { parseHeaderLine } from '../../../connectors/keboola/keboola-connector.ts';
import { csvSelectSql } from '../../../connectors/keboola/slices-sql.ts';
import { mapType, pickMetadata } from '../../../connectors/keboola/table-schema.ts';
import type { PlannedColumn } from '../../../connectors/keboola/table-schema.ts';
import type { ConnectorEvent } from '../../../pipeline/contract.ts';
import type { FakeMetadata, FakeTable } from '../../fixtures/keboola/fake-keboola.ts';
import { chunks, complete, fakeAndConnector, keboolaConfig, keboolaTable, request, run, TOKEN } from '../../fixtures/keboola/keboola-fixtures.ts';
import { columnEncodings, parquetColumns, queryRows, readParquet } from '../../helpers/parquet.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { writeTemp } from '../../fixtures/keboola/keboola-fixtures.ts';

const meta = (key: string, value: string, provider = 'user', timestamp?: string): FakeMetadata => ({ key, value, provider, ...(timestamp ? { timestamp } : {}) });
const basetype = (value: string, provider = 'user'): FakeMetadata => meta('KBC.datatype.basetype', value, provider);

/** A table exercising every type and the awkward values Keboola exports. */
const TYPED: FakeTable = {
  id: 'in.c-shop.orders',
  columns: ['id', 'customer', 'amount', 'paid', 'ordered_on', 'created_at', 'updated_at', 'note'],
  primaryKey: ['id'],
  rowsCount: 4,
  dataSizeBytes: 4096,
  lastImportDate: '2026-03-10T08:00:00+0100',
  lastChangeDate: '2026-03-10T08:00:01+0100',
  metadata: [meta('KBC.description', 'Orders of the shop'), meta('KBC.createdBy.component.id', 'keboola.ex-db-mysql', 'system')],
  columnMetadata: {
    id: [basetype('INTEGER', 'storage'), meta('KBC.description', 'Order number')],
    amount: [basetype('NUMERIC')],
    paid: [basetype('BOOLEAN')],
    ordered_on: [basetype('DATE')],
    created_at: [meta('KBC.datatype.type', 'TIMESTAMP_NTZ', 'storage')],
    updated_at: [meta('KBC.datatype.type', 'TIMESTAMP_TZ', 'storage')],
  },
  rows: [
    { id: '1', customer: 'Smith, "Anna"', amount: '10.5', paid: 'yes', ordered_on: '2024-01-05', created_at: '2024-01-05 10:00:00', updated_at: '2024-01-05 10:00:00+01:00', note: 'multi\nline' },
    { id: '2', customer: '', amount: '', paid: 'no', ordered_on: '0000-00-00', created_at: '', updated_at: '2024-01-05T10:00:00Z', note: '' },
    { id: '3', customer: 'Bob', amount: '7', paid: '1', ordered_on: '', created_at: '0000-00-00 00:00:00', updated_at: '', note: 'x' },
    { id: '4', customer: 'Eve', amount: '-1e3', paid: 'FALSE', ordered_on: '2024-02-29', created_at: '2024-02-29 23:59:59.123456', updated_at: '2024-02-29 23:59:59', note: 'y' },
  ],
};

const EXPECTED_ROWS = [
  { id: '1', customer: 'Smith, "Anna"', amount: 10.5, paid: true, ordered_on: '2024-01-05', created_at: '2024-01-05 10:00:00', updated_at: '2024-01-05 09:00:00+00', note: 'multi\nline' },
  { id: '2', customer: '', amount: null, paid: false, ordered_on: null, created_at: null, updated_at: '2024-01-05 10:00:00+00', note: '' },
  { id: '3', customer: 'Bob', amount: 7, paid: true, ordered_on: null, created_at: null, updated_at: null, note: 'x' },
  { id: '4', customer: 'Eve', amount: -1000, paid: false, ordered_on: '2024-02-29', created_at: '2024-02-29 23:59:59.123456', updated_at: '2024-02-29 23:59:59+00', note: 'y' },
];

/** DuckDB reads TIMESTAMPTZ back in the reader's time zone; the helpers use a fresh instance, so normalise. */
async function rows(file: string): Promise<Array<Record<string, unknown>>> {
  const got = await readParquet(file, { orderBy: 'id' });
  return got.map((r) => ({ ...r, updated_at: r.updated_at === null ? null : new Date(String(r.updated_at)).toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '+00') }));
}

async function failure(promise: Promise<unknown>, code: string): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(hasCode(err, code), `expected ${code}, got ${(err as { code?: string }).code}: ${(err as Error).message}`);
    assert.ok(!(err as Error).message.includes(TOKEN));
    return err as Error;
  }
  assert.fail(`expected ${code}`);
}

describe('Keboola connector: export to typed Parquet', () => {
  it('is enabled exactly when data_source.keboola has a token and a stack URL', () => {
    assert.equal(keboolaConnector.type, 'keboola');
    assert.equal(keboolaConnector.enabled(keboolaConfig('https://connection.keboola.com', TOKEN)), true);
    assert.equal(keboolaConnector.enabled(keboolaConfig(undefined, undefined)), false);
    assert.equal(keboolaConnector.enabled(keboolaConfig('https://connection.keboola.com', '')), false);
  });

  for (const format of ['parquet', 'csv'] as const) {
    it(`full_refresh via ${format} exports: one chunk, typed from metadata, awkward values converted`, async (t) => {
      const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED] }, { exportFormat: format });
      const events = await run(connector, await request(workDir, keboolaTable()));
      const [chunk, ...more] = chunks(events);
      assert.ok(chunk);
      assert.equal(more.length, 0);
      assert.equal(chunk.rows, 4);
      assert.deepEqual(chunk.schema, [
        { name: 'id', type: 'BIGINT', description: 'Order number' }, { name: 'customer', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE' },
        { name: 'paid', type: 'BOOLEAN' }, { name: 'ordered_on', type: 'DATE' }, { name: 'created_at', type: 'TIMESTAMP' },
        { name: 'updated_at', type: 'TIMESTAMPTZ' }, { name: 'note', type: 'VARCHAR' },
      ]);
      assert.deepEqual((await parquetColumns(chunk.path)).map((c) => c.type), ['BIGINT', 'VARCHAR', 'DOUBLE', 'BOOLEAN', 'DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'VARCHAR']);
      assert.deepEqual(await rows(chunk.path), EXPECTED_ROWS);
      assert.match(await columnEncodings(chunk.path, 'id'), /DELTA_BINARY_PACKED/, 'Parquet format version 2');
      const done = complete(events);
      assert.equal(done.mode, 'replace');
      assert.deepEqual(done.cursor, { lastExportStart: '2026-03-15T10:00:00.000Z' });
      const md = done.metadata as Record<string, unknown>;
      assert.equal(md.source, 'keboola');
      assert.equal(md.description, 'Orders of the shop');
      assert.equal(md.rowsCount, 4);
      assert.equal(md.dataSizeBytes, 4096);
      assert.equal(md.lastImportDate, '2026-03-10T08:00:00+0100');
      assert.equal(md.lastChangeDate, '2026-03-10T08:00:01+0100');
      assert.deepEqual(md.primaryKey, ['id']);
      assert.deepEqual((md.columns as Array<Record<string, unknown>>)[0], { name: 'id', type: 'BIGINT', typeFrom: 'KBC.datatype.basetype', sourceType: 'INTEGER', provider: 'storage', description: 'Order number' });
      const exported = (md.exports as Array<Record<string, unknown>>)[0]!;
      assert.equal(exported.format, format);
      assert.equal(exported.rows, 4);
      assert.equal(fake.exports.length, 1);
      assert.deepEqual(fake.tokenLeaks(), []);
      assert.ok(!JSON.stringify(events).includes(TOKEN));
    });
  }

  it('a typed table\'s Parquet export (real column types) is cast to the declared types', async (t) => {
    const { connector, workDir } = await fakeAndConnector(t, { tables: [{
      id: 'in.c-shop.typed', columns: ['id', 'amount', 'day'], basetypes: { id: 'INTEGER', amount: 'NUMERIC', day: 'DATE' },
      columnMetadata: { day: [meta('KBC.datatype.basetype', 'TIMESTAMP')] },
      rows: [{ id: '1', amount: '2.5', day: '2024-01-01' }, { id: '2', amount: '', day: '' }],
    }] });
    const [chunk] = chunks(await run(connector, await request(workDir, keboolaTable({ id: 'in.c-shop.typed' }))));
    assert.deepEqual((await parquetColumns(chunk!.path)).map((c) => `${c.name}:${c.type}`), ['id:BIGINT', 'amount:DOUBLE', 'day:TIMESTAMP']);
    assert.deepEqual(await readParquet(chunk!.path, { orderBy: 'id' }), [{ id: '1', amount: 2.5, day: '2024-01-01 00:00:00' }, { id: '2', amount: null, day: null }]);
  });

  it('types by provider priority user > ai-metadata-enrichment > transformation > storage > others; basetype before type; default STRING', async (t) => {
    const table: FakeTable = {
      id: 'in.c-shop.priority',
      columns: ['a', 'b', 'c', 'd', 'e', 'f'],
      columnMetadata: {
        a: [basetype('STRING', 'storage'), basetype('INTEGER', 'user'), basetype('DATE', 'ai-metadata-enrichment')],
        b: [basetype('STRING', 'storage'), basetype('INTEGER', 'ai-metadata-enrichment'), basetype('DATE', 'keboola.snowflake-transformation')],
        c: [basetype('INTEGER', 'keboola.python-transformation'), basetype('STRING', 'storage'), basetype('DATE', 'keboola.ex-db-mysql')],
        d: [meta('KBC.datatype.type', 'INTEGER', 'user'), basetype('NUMERIC', 'storage')],
        e: [meta('KBC.datatype.type', 'VARCHAR', 'user'), meta('KBC.datatype.type', 'NUMBER', 'keboola.ex-db-snowflake')],
        f: [meta('KBC.description', 'Only a description')],
      },
      rows: [{ a: '1', b: '2', c: '3', d: '4.5', e: 'x', f: 'y' }],
    };
    const { connector, workDir } = await fakeAndConnector(t, { tables: [table] });
    const [chunk] = chunks(await run(connector, await request(workDir, keboolaTable({ id: 'in.c-shop.priority' }))));
    assert.deepEqual(chunk!.schema.map((c) => `${c.name}:${c.type}`), ['a:BIGINT', 'b:BIGINT', 'c:BIGINT', 'd:DOUBLE', 'e:VARCHAR', 'f:VARCHAR']);
    assert.equal(chunk!.schema[5]!.description, 'Only a description');
  });

  it('metadata picking: newest entry wins within a provider; known aliases map', () => {
    const entries = [meta('KBC.datatype.basetype', 'DATE', 'user', '2025-01-01T00:00:00+0100'), meta('KBC.datatype.basetype', 'INTEGER', 'user', '2026-01-01T00:00:00+0100'), meta('KBC.datatype.basetype', '', 'user', '2027-01-01')];
    assert.equal(pickMetadata(entries, 'KBC.datatype.basetype')?.value, 'INTEGER');
    assert.equal(mapType('TIMESTAMP_LTZ'), 'TIMESTAMPTZ');
    assert.equal(mapType('NUMERIC(12,2)'), 'DOUBLE');
    assert.deepEqual(parseHeaderLine('\uFEFF"id","a ""b""",c\r\n"1","2","3"'), ['id', 'a "b"', 'c']);
  });

  it('the CSV reader\'s native parsing and the text conversion agree on every type', async (t) => {
    const dir = await tempDir(t, 'kbc-sql-');
    const file = await writeTemp(dir, 'slice.csv', [
      '"1","10.5","yes","2024-01-05","2024-01-05 10:00:00","2024-01-05 10:00:00+01:00","a ""b"", c"',
      '"2","","no","","","",""',
      '" 3 ","-1e3","TRUE","2024-02-29","2024-02-29 23:59:59.123456","2024-02-29T23:59:59Z","x"',
      '"4","0","0","2024-03-01","2024-03-01 00:00:00","2024-03-01 00:00:00","multi\nline"',
    ].join('\n') + '\n');
    const plan: PlannedColumn[] = [
      { name: 'i', type: 'BIGINT', typeFrom: 'x' }, { name: 'd', type: 'DOUBLE', typeFrom: 'x' }, { name: 'b', type: 'BOOLEAN', typeFrom: 'x' },
      { name: 'day', type: 'DATE', typeFrom: 'x' }, { name: 'ts', type: 'TIMESTAMP', typeFrom: 'x' }, { name: 'tz', type: 'TIMESTAMPTZ', typeFrom: 'x' },
      { name: 's', type: 'VARCHAR', typeFrom: 'x' },
    ];
    const names = plan.map((c) => c.name);
    const read = async (native: boolean) => queryRows(`SELECT * REPLACE (epoch_us(tz) AS tz) FROM (${csvSelectSql([file], names, false, plan, native)}) ORDER BY i`);
    const text = await read(false);
    assert.deepEqual(await read(true), text);
    assert.deepEqual(text.map((r) => [r.i, r.d, r.b, r.s]), [['1', 10.5, true, 'a "b", c'], ['2', null, false, ''], ['3', -1000, true, 'x'], ['4', 0, false, 'multi\nline']]);
  });

  it('explicit columns in the table config win: their order, types and descriptions; only they are exported', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED] }, { exportFormat: 'csv' });
    const table = keboolaTable({ columns: [{ name: 'amount', type: 'STRING', description: 'Raw amount' }, { name: 'id' }] });
    const [chunk] = chunks(await run(connector, await request(workDir, table)));
    assert.deepEqual(chunk!.schema, [{ name: 'amount', type: 'VARCHAR', description: 'Raw amount' }, { name: 'id', type: 'BIGINT', description: 'Order number' }]);
    assert.deepEqual(await readParquet(chunk!.path, { orderBy: 'id' }), [{ amount: '10.5', id: '1' }, { amount: '', id: '2' }, { amount: '7', id: '3' }, { amount: '-1e3', id: '4' }]);
    assert.equal(fake.exports[0]!.params.columns, 'amount,id');

    const bad = keboolaTable({ columns: [{ name: 'nope', type: 'STRING' }] });
    const err = await failure(run(connector, await request(workDir, bad)), 'CONFIG_INVALID');
    assert.match(err.message, /"nope"/);
  });

  it('a single CSV file with a header (a non-sliced export) is read by its header', async (t) => {
    const { connector, workDir } = await fakeAndConnector(t, { tables: [TYPED], rowsPerSlice: 0 }, { exportFormat: 'csv' });
    const [chunk] = chunks(await run(connector, await request(workDir, keboolaTable())));
    assert.deepEqual(await rows(chunk!.path), EXPECTED_ROWS);
  });

  it('sliced gzip CSV: many slices become one chunk', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED], rowsPerSlice: 1 }, { exportFormat: 'csv' });
    const events = await run(connector, await request(workDir, keboolaTable()));
    assert.equal(chunks(events).length, 1);
    assert.equal(fake.downloadRequests().filter((r) => r.path.includes('/part/')).length, 4);
    assert.equal(fake.exports[0]!.params.gzip, true);
    assert.deepEqual(await rows(chunks(events)[0]!.path), EXPECTED_ROWS);
    // Hashed while DuckDB wrote it: the digest the blob store takes instead of reading the file back.
    const chunk = chunks(events)[0]!;
    assert.deepEqual(chunk.digest, await hashFile(chunk.path));
  });

  it('a slice whose gzip stream stops after its header (Content-Length matching) is downloaded again, not read as empty', async (t) => {
    // The length check cannot see this cut, and DuckDB's gzip reader reads such a file as zero rows without an error
    // (it checks neither the CRC nor the stream's end): inflating in the download is what catches it.
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED], rowsPerSlice: 1 }, { exportFormat: 'csv' });
    fake.inject({ path: /\/part\/1$/ }, { corruptGzip: true, keep: 10 });
    const events = await run(connector, await request(workDir, keboolaTable()));
    assert.deepEqual(await rows(chunks(events)[0]!.path), EXPECTED_ROWS);
    assert.equal(fake.downloadRequests().filter((r) => /\/part\/1$/.test(r.path)).length, 2);
  });

  it('prepare() fetches the first table\'s detail ahead, which its run uses instead of asking again', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED] }, { exportFormat: 'csv' });
    const detailGets = () => fake.requests.filter((r) => r.path === '/v2/storage/tables/in.c-shop.orders').length;
    connector.prepare([keboolaTable()]);
    const events = await run(connector, await request(workDir, keboolaTable()));
    assert.deepEqual(await rows(chunks(events)[0]!.path), EXPECTED_ROWS);
    assert.equal(detailGets(), 1);
    // Used once: the next run asks again.
    await run(connector, await request(workDir, keboolaTable()));
    assert.equal(detailGets(), 2);
  });

  it('a detail fetched ahead for another table is not used; one that failed fails its run, as the run\'s own request would', async (t) => {
    const other: FakeTable = { id: 'in.c-shop.other', columns: ['x'], rows: [{ x: '1' }] };
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED, other] }, { exportFormat: 'csv' });
    const detailGets = (id: string) => fake.requests.filter((r) => r.path === `/v2/storage/tables/${id}`).length;
    connector.prepare([keboolaTable({ id: 'in.c-shop.other' })]);
    const events = await run(connector, await request(workDir, keboolaTable()));
    assert.deepEqual(await rows(chunks(events)[0]!.path), EXPECTED_ROWS);
    assert.equal(detailGets('in.c-shop.orders'), 1);
    fake.inject({ path: '/v2/storage/tables/in.c-shop.orders' }, { status: 404 });
    connector.prepare([keboolaTable()]);
    await failure(run(connector, await request(workDir, keboolaTable())), KeboolaErrorCode.notFound);
    assert.equal(detailGets('in.c-shop.orders'), 2);
  });

  it('an alias exports its source\'s rows, typed by the source\'s column metadata', async (t) => {
    const { connector, workDir } = await fakeAndConnector(t, { tables: [TYPED, { id: 'out.c-share.orders', aliasOf: 'in.c-shop.orders', metadata: [meta('KBC.description', 'Shared orders')] }] });
    const events = await run(connector, await request(workDir, keboolaTable({ id: 'out.c-share.orders' })));
    const [chunk] = chunks(events);
    assert.deepEqual(chunk!.schema.map((c) => c.type), ['BIGINT', 'VARCHAR', 'DOUBLE', 'BOOLEAN', 'DATE', 'TIMESTAMP', 'TIMESTAMPTZ', 'VARCHAR']);
    assert.equal(chunk!.rows, 4);
    const md = complete(events).metadata as Record<string, unknown>;
    assert.equal(md.isAlias, true);
    assert.equal(md.sourceTableId, 'in.c-shop.orders');
    assert.equal(md.description, 'Shared orders');
  });

  it('partitioned is one full export that replaces', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED] });
    const events = await run(connector, await request(workDir, keboolaTable({ syncStrategy: 'partitioned', partitionBy: 'ordered_on' })));
    assert.equal(complete(events).mode, 'replace');
    assert.equal(fake.exports.length, 1);
    assert.equal(fake.exports[0]!.params.changedSince, undefined);
  });
});

describe('Keboola connector: incremental windows and the cursor', () => {
  const EVENTS: FakeTable = {
    id: 'in.c-web.events',
    columns: ['id', 'value'],
    primaryKey: ['id'],
    columnMetadata: { id: [basetype('INTEGER')] },
    rows: [
      { id: '1', value: 'old', _timestamp: '2025-10-01T00:00:00Z' },
      { id: '2', value: 'january', _timestamp: '2026-01-10T00:00:00Z' },
      { id: '3', value: 'february', _timestamp: '2026-02-20T12:00:00Z' },
      { id: '4', value: 'march', _timestamp: '2026-03-14T00:00:00Z' },
    ],
  };
  const incremental = (extra = {}) => keboolaTable({ id: 'in.c-web.events', syncStrategy: 'incremental', primaryKey: ['id'], ...extra });

  it('first load without max_history_days: one export of everything, replace, cursor = export start', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [EVENTS] });
    const events = await run(connector, await request(workDir, incremental()));
    const done = complete(events);
    assert.equal(done.mode, 'replace');
    assert.deepEqual(done.cursor, { lastExportStart: '2026-03-15T10:00:00.000Z' });
    assert.equal(chunks(events)[0]!.rows, 4);
    assert.equal(fake.exports[0]!.params.changedSince, undefined);
  });

  it('the second run asks changedSince = last export start − incremental_window_days and upserts', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [EVENTS] });
    const first = complete(await run(connector, await request(workDir, incremental({ incrementalWindowDays: 30 }))));
    const events = await run(connector, await request(workDir, incremental({ incrementalWindowDays: 30 }), { cursor: first.cursor, now: new Date('2026-03-16T10:00:00Z') }));
    assert.equal(fake.exports[1]!.params.changedSince, '2026-02-13T10:00:00+00:00');
    assert.equal(fake.exports[1]!.params.changedUntil, undefined);
    const done = complete(events);
    assert.equal(done.mode, 'upsert');
    assert.deepEqual(done.cursor, { lastExportStart: '2026-03-16T10:00:00.000Z' });
    assert.deepEqual((await readParquet(chunks(events)[0]!.path, { orderBy: 'id' })).map((r) => r.value), ['february', 'march']);
  });

  it('a run that fetches no rows emits no chunk and keeps the previous cursor', async (t) => {
    const { connector, workDir } = await fakeAndConnector(t, { tables: [EVENTS] });
    const cursor = { lastExportStart: '2026-03-15T09:00:00.000Z' };
    const events = await run(connector, await request(workDir, incremental({ incrementalWindowDays: 0 }), { cursor }));
    assert.equal(chunks(events).length, 0);
    assert.deepEqual(complete(events).cursor, cursor);
    assert.equal(complete(events).mode, 'upsert');
  });

  it('first load with max_history_days: contiguous windows of initial_load_chunk_days ending at the export start, one chunk each, replace', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [EVENTS] });
    const events = await run(connector, await request(workDir, incremental({ maxHistoryDays: 90, initialLoadChunkDays: 40 })));
    const windows = fake.exports.map((e) => [e.params.changedSince, e.params.changedUntil]);
    assert.deepEqual(windows, [
      ['2025-12-15T10:00:00+00:00', '2026-01-24T10:00:00+00:00'],
      ['2026-01-24T10:00:00+00:00', '2026-03-05T10:00:00+00:00'],
      ['2026-03-05T10:00:00+00:00', '2026-03-15T10:00:00+00:00'],
    ]);
    assert.deepEqual(chunks(events).map((c) => c.rows), [1, 1, 1], 'row 1 is older than max_history_days; each other row in exactly one window');
    const done = complete(events);
    assert.equal(done.mode, 'replace');
    assert.deepEqual(done.cursor, { lastExportStart: '2026-03-15T10:00:00.000Z' });
    assert.equal((done.metadata as { exports: unknown[] }).exports.length, 3);
  });

  it('a first load whose windows are all empty still publishes the typed, empty table', async (t) => {
    const { connector, workDir } = await fakeAndConnector(t, { tables: [{ ...EVENTS, rows: [] }] });
    const events = await run(connector, await request(workDir, incremental({ maxHistoryDays: 10, initialLoadChunkDays: 5 })));
    const all = chunks(events);
    assert.equal(all.length, 1);
    assert.equal(all[0]!.rows, 0);
    assert.deepEqual((await parquetColumns(all[0]!.path)).map((c) => c.type), ['BIGINT', 'VARCHAR']);
    assert.equal(complete(events).cursor, undefined);
  });

  it('where_filters reach the export with placeholders resolved and numeric comparisons typed', async (t) => {
    const table: FakeTable = {
      id: 'in.c-shop.sales', columns: ['id', 'day', 'country'], columnMetadata: { id: [basetype('INTEGER')], day: [basetype('DATE')] },
      rows: [{ id: '1', day: '2026-03-01', country: 'CZ' }, { id: '2', day: '2026-03-10', country: 'CZ' }, { id: '3', day: '2026-03-12', country: 'DE' }, { id: '30', day: '2026-03-12', country: 'CZ' }],
    };
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [table] });
    const events = await run(connector, await request(workDir, keboolaTable({
      id: 'in.c-shop.sales',
      whereFilters: [
        { column: 'day', operator: 'ge', values: ['{{last_week}}'] },
        { column: 'country', operator: 'eq', values: ['CZ', 'SK'] },
        { column: 'id', operator: 'lt', values: ['10'] },
      ],
    })));
    assert.deepEqual(fake.exports[0]!.params.whereFilters, [
      { column: 'day', operator: 'ge', values: ['2026-03-08'] },
      { column: 'country', operator: 'eq', values: ['CZ', 'SK'] },
      { column: 'id', operator: 'lt', values: ['10'], dataType: 'INTEGER' },
    ]);
    assert.deepEqual((await readParquet(chunks(events)[0]!.path)).map((r) => r.id), ['2']);

    const err = await failure(run(connector, await request(workDir, keboolaTable({ id: 'in.c-shop.sales', whereFilters: [{ column: 'nope', operator: 'eq', values: ['x'] }] }))), 'CONFIG_INVALID');
    assert.match(err.message, /where_filters column "nope"/);
  });
});

describe('Keboola connector: failures', () => {
  it('a value that does not fit its metadata type fails with KEBOOLA_TYPE_MISMATCH naming the column, value and type source', async (t) => {
    const table: FakeTable = { id: 'in.c-shop.bad', columns: ['id', 'amount'], columnMetadata: { amount: [basetype('NUMERIC', 'ai-metadata-enrichment')] }, rows: [{ id: '1', amount: '12' }, { id: '2', amount: 'N/A' }] };
    for (const format of ['csv', 'parquet'] as const) {
      const { connector, workDir } = await fakeAndConnector(t, { tables: [table] }, { exportFormat: format });
      const req = await request(workDir, keboolaTable({ id: 'in.c-shop.bad' }));
      const err = await failure(run(connector, req), KeboolaErrorCode.typeMismatch);
      assert.match(err.message, /column "amount": "N\/A" is not a valid DOUBLE \(type NUMERIC from KBC\.datatype\.basetype by provider ai-metadata-enrichment\)/);
      assert.deepEqual(await readdir(req.workDir), [], 'no chunk or slice is left behind');
    }
  });

  it('an export job in error fails the table\'s sync with Keboola\'s message', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [{ id: 'in.c-shop.orders', columns: ['id'], rows: [{ id: '1' }] }] });
    fake.failNextJob('in.c-shop.orders', 'Table export failed: query timeout');
    const err = await failure(run(connector, await request(workDir, keboolaTable())), KeboolaErrorCode.jobFailed);
    assert.match(err.message, /query timeout/);
  });

  it('faults on every leg are retried and the run still succeeds', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED], rowsPerSlice: 1 }, { exportFormat: 'csv', stallTimeoutMs: 200 });
    fake.inject({ path: '/v2/storage/tables/in.c-shop.orders' }, { status: 429, headers: { 'Retry-After': '0' } });
    fake.inject({ path: /export-async$/ }, { status: 502 });
    fake.inject({ path: /^\/v2\/storage\/jobs\// }, { drop: true });
    fake.inject({ path: /^\/v2\/storage\/files\// }, { status: 500 });
    fake.inject({ path: /\/part\/0$/ }, { truncate: 0.4 });
    fake.inject({ path: /\/part\/1$/ }, { expired: true });
    fake.inject({ path: /\/part\/2$/ }, { corruptGzip: true });
    fake.inject({ path: /\/part\/3$/ }, { stall: 0.2 });
    const events = await run(connector, await request(workDir, keboolaTable()));
    assert.deepEqual(await rows(chunks(events)[0]!.path), EXPECTED_ROWS);
    assert.equal(fake.exports.length, 1, 'a POST that failed with 502 created no job');
    assert.deepEqual(fake.tokenLeaks(), []);
  });

  it('aborting request.signal cancels the run (CANCELLED) and leaves no files', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED] }, { jobPoll: { initialDelayMs: 5, maxDelayMs: 5, factor: 1, maxWaitMs: 60_000 } });
    fake.slowNextJob('in.c-shop.orders', 1_000_000);
    const controller = new AbortController();
    const req = await request(workDir, keboolaTable(), { signal: controller.signal });
    const seen: ConnectorEvent[] = [];
    const done = lastValueFrom(connector.sync(req).pipe(tap((e) => seen.push(e)), toArray())).catch((err: unknown) => err);
    setTimeout(() => controller.abort(), 80);
    const t0 = performance.now();
    const err = await done;
    assert.ok(hasCode(err, 'CANCELLED'), String(err));
    assert.ok(performance.now() - t0 < 2000, 'cancelled promptly');
    assert.ok(seen.every((e) => e.kind === 'progress'), 'no chunk and no complete event');
    assert.deepEqual(await readdir(req.workDir), []);
  });

  it('close() cancels runs in flight', async (t) => {
    const { fake, connector, workDir } = await fakeAndConnector(t, { tables: [TYPED] }, { jobPoll: { initialDelayMs: 5, maxDelayMs: 5, factor: 1, maxWaitMs: 60_000 } });
    fake.slowNextJob('in.c-shop.orders', 1_000_000);
    const pending = run(connector, await request(workDir, keboolaTable())).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    await connector.close();
    assert.ok(hasCode(await pending, 'CANCELLED'));
  });
});
