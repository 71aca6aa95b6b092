import assert from 'node:assert/strict';
import { readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import type { TableConfig } from '../../../config/index.ts';
import type { Connector } from '../../../pipeline/contract.ts';
import { CSV_INVALID, csvConnector, resolveTableFiles } from '../../../connectors/csv/index.ts';
import type { CsvCursor } from '../../../connectors/csv/index.ts';
import {
  chunksOf, collectEvents, completeOf, csvConfig, csvSandbox, csvTable, parquetTypes, readParquet, syncRequest,
} from '../../helpers/csv-config.ts';
import type { CsvSandbox } from '../../helpers/csv-config.ts';
import { columnEncodings } from '../../helpers/parquet.ts';

let sandbox: CsvSandbox;
let connector: Connector;

beforeEach(async () => {
  sandbox = await csvSandbox();
  connector = csvConnector.create(csvConfig(sandbox.dir));
});

afterEach(async () => {
  await connector.close?.();
  await sandbox.cleanup();
});

function sync(table: TableConfig, extra: Parameters<typeof syncRequest>[2] = {}) {
  return collectEvents(connector, syncRequest(table, sandbox.workDir, extra));
}

/** Asserts the run fails with CSV_INVALID (or `code`) and a message matching every pattern; returns the error. */
async function rejects(table: TableConfig, patterns: RegExp[], code: string = CSV_INVALID) {
  let caught: (Error & { code?: string; details?: Record<string, unknown> }) | undefined;
  try {
    await sync(table);
  } catch (err) {
    caught = err as typeof caught;
  }
  assert.ok(caught, 'the sync should fail');
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

async function stagedFiles(): Promise<string[]> {
  return (await readdir(sandbox.workDir)).sort();
}

/** Resolves once the staging directory holds a file (a COPY has started writing). */
async function untilStaged(): Promise<void> {
  while ((await stagedFiles()).length === 0) await new Promise((r) => setImmediate(r));
}

const ORDER_COLUMNS = [
  { name: 'id', type: 'INTEGER', description: 'Order id' },
  { name: 'customer', type: 'STRING' },
  { name: 'amount', type: 'NUMERIC(10,2)' },
  { name: 'paid', type: 'BOOLEAN' },
  { name: 'ordered_on', type: 'DATE' },
  { name: 'created_at', type: 'TIMESTAMP' },
  { name: 'updated_at', type: 'TIMESTAMP_TZ' },
];

describe('csvConnector factory', () => {
  it('is enabled only when data_source.csv.dir is set', () => {
    assert.equal(csvConnector.type, 'csv');
    assert.equal(csvConnector.enabled(csvConfig('/data/csv')), true);
    assert.equal(csvConnector.enabled(csvConfig(undefined)), false);
  });

  it('refuses to sync after close', async () => {
    await connector.close?.();
    await rejects(csvTable(), [/closed/], 'CLOSED');
  });
});

describe('CSV parsing', () => {
  it('stages a headed CSV with detected types, progress, and a replace completion', async () => {
    await sandbox.write('orders.csv', 'id,customer,amount,paid,ordered_on,created_at\n1,Alice,10.5,true,2024-01-02,2024-01-02 10:00:00\n2,Bob,3,false,2024-02-03,2024-02-03 11:30:00\n3,,7.25,,,\n');
    const events = await sync(csvTable());
    const chunks = chunksOf(events);
    assert.equal(chunks.length, 1);
    const chunk = chunks[0]!;
    assert.equal(chunk.rows, 3);
    assert.equal(chunk.format, 'parquet');
    assert.equal(chunk.sourceFile, 'orders.csv');
    assert.equal(path.dirname(chunk.path), sandbox.workDir);
    assert.deepEqual(chunk.schema, [
      { name: 'id', type: 'BIGINT' }, { name: 'customer', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE' },
      { name: 'paid', type: 'BOOLEAN' }, { name: 'ordered_on', type: 'DATE' }, { name: 'created_at', type: 'TIMESTAMP' },
    ]);
    assert.deepEqual(await readParquet(chunk.path), [
      { id: '1', customer: 'Alice', amount: 10.5, paid: true, ordered_on: '2024-01-02', created_at: '2024-01-02 10:00:00' },
      { id: '2', customer: 'Bob', amount: 3, paid: false, ordered_on: '2024-02-03', created_at: '2024-02-03 11:30:00' },
      { id: '3', customer: '', amount: 7.25, paid: null, ordered_on: null, created_at: null },
    ]);
    const progress = events.filter((e) => e.kind === 'progress');
    assert.ok(progress.some((p) => p.kind === 'progress' && p.rows === 3 && typeof p.bytes === 'number' && p.bytes > 0));
    const done = completeOf(events);
    assert.equal(done.mode, 'replace');
    assert.equal(events.at(-1), done);
    const cursor = done.cursor as CsvCursor;
    assert.deepEqual(Object.keys(cursor.files), ['orders.csv']);
    assert.equal(typeof cursor.files['orders.csv']!.mtimeMs, 'number');
    assert.equal(cursor.files['orders.csv']!.sha256, undefined, 'a full refresh does not hash');
    assert.deepEqual(await stagedFiles(), [path.basename(chunk.path)]);
    // Parquet format version 2's encodings: a chunk is a blob no replay writes again, and smaller so.
    assert.match(await columnEncodings(chunk.path, 'id'), /DELTA_BINARY_PACKED/);
  });

  it('reads a file without a header, by declared names or as column0…', async () => {
    await sandbox.write('orders.csv', '1,Alice\n2,Bob\n');
    const declared = chunksOf(await sync(csvTable({ csv: { header: false }, columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name' }] })));
    assert.deepEqual(declared[0]!.schema, [{ name: 'id', type: 'BIGINT' }, { name: 'name', type: 'VARCHAR' }]);
    assert.deepEqual(await readParquet(declared[0]!.path), [{ id: '1', name: 'Alice' }, { id: '2', name: 'Bob' }]);
    const detected = chunksOf(await sync(csvTable({ csv: { header: false } })));
    assert.deepEqual(await readParquet(detected[0]!.path), [{ column0: '1', column1: 'Alice' }, { column0: '2', column1: 'Bob' }]);
  });

  it('handles a ; delimiter, a UTF-8 BOM, CRLF and quoted fields holding delimiters, quotes and newlines', async () => {
    await sandbox.write('orders.csv', '\uFEFFid;note;city\r\n1;"semi;colon, comma";Praha\r\n2;"two\r\nlines and ""quotes""";Brno\r\n3;plain;"Plzeň"\r\n');
    const chunk = chunksOf(await sync(csvTable({ csv: { delimiter: ';' } })))[0]!;
    assert.equal(chunk.rows, 3, 'rows come from DuckDB, not from line counts');
    assert.deepEqual(chunk.schema.map((c) => c.name), ['id', 'note', 'city'], 'the BOM is not part of the first name');
    assert.deepEqual(await readParquet(chunk.path), [
      { id: '1', note: 'semi;colon, comma', city: 'Praha' },
      { id: '2', note: 'two\r\nlines and "quotes"', city: 'Brno' },
      { id: '3', note: 'plain', city: 'Plzeň' },
    ]);
  });

  it('applies custom quote and escape characters', async () => {
    await sandbox.write('orders.csv', "id|note\n1|'it\\'s | here'\n");
    const chunk = chunksOf(await sync(csvTable({ csv: { delimiter: '|', quote: "'", escape: '\\' } })))[0]!;
    assert.deepEqual(await readParquet(chunk.path), [{ id: '1', note: "it's | here" }]);
  });

  it('converts declared types: booleans yes/no/1/0, empty → NULL for non-strings, zero dates → NULL, timestamps with zones in UTC', async () => {
    await sandbox.write('orders.csv', [
      'id,customer,amount,paid,ordered_on,created_at,updated_at',
      '1,Alice,10.50,yes,2024-01-02,2024-01-02 10:00:00,2024-01-02T10:00:00+02:00',
      '2,,,no,0000-00-00,0000-00-00 00:00:00,',
      '3,"",3,1,,,2024-01-03 08:00:00',
      '4,Dan,-1.25,0,2024-12-31,2024-12-31T23:59:59,2024-01-04 08:00:00Z',
      '5,Eve,0,TRUE,2024-06-01,,',
      '6,Fay,1e3,false,,,',
    ].join('\n') + '\n');
    const chunk = chunksOf(await sync(csvTable({ columns: ORDER_COLUMNS })))[0]!;
    assert.deepEqual(chunk.schema, [
      { name: 'id', type: 'BIGINT', description: 'Order id' }, { name: 'customer', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE' },
      { name: 'paid', type: 'BOOLEAN' }, { name: 'ordered_on', type: 'DATE' }, { name: 'created_at', type: 'TIMESTAMP' },
      { name: 'updated_at', type: 'TIMESTAMPTZ' },
    ]);
    assert.deepEqual(await parquetTypes(chunk.path), {
      id: 'BIGINT', customer: 'VARCHAR', amount: 'DOUBLE', paid: 'BOOLEAN', ordered_on: 'DATE', created_at: 'TIMESTAMP', updated_at: 'TIMESTAMP WITH TIME ZONE',
    });
    const rows = await readParquet(chunk.path);
    assert.deepEqual(rows.map((r) => r.paid), [true, false, true, false, true, false]);
    assert.deepEqual(rows.map((r) => r.amount), [10.5, null, 3, -1.25, 0, 1000]);
    assert.deepEqual(rows.map((r) => r.customer), ['Alice', '', '', 'Dan', 'Eve', 'Fay'], 'strings keep empty values');
    assert.deepEqual(rows.map((r) => r.ordered_on), ['2024-01-02', null, null, '2024-12-31', '2024-06-01', null]);
    assert.deepEqual(rows.map((r) => r.created_at), ['2024-01-02 10:00:00', null, null, '2024-12-31 23:59:59', null, null]);
    assert.deepEqual(rows.map((r) => r.updated_at), ['2024-01-02 08:00:00+00', null, '2024-01-03 08:00:00+00', '2024-01-04 08:00:00+00', null, null]);
  });

  it('keeps the declared type of an all-empty column', async () => {
    await sandbox.write('orders.csv', 'id,amount\n1,\n2,\n');
    const chunk = chunksOf(await sync(csvTable({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'amount', type: 'DOUBLE' }] })))[0]!;
    assert.deepEqual(await parquetTypes(chunk.path), { id: 'BIGINT', amount: 'DOUBLE' });
  });

  it('accepts declared columns in another order than the header and publishes the declared order', async () => {
    await sandbox.write('orders.csv', 'b,a\nx,1\n');
    const chunk = chunksOf(await sync(csvTable({ columns: [{ name: 'a', type: 'INTEGER' }, { name: 'b', type: 'STRING' }] })))[0]!;
    assert.deepEqual(chunk.schema.map((c) => c.name), ['a', 'b']);
    assert.deepEqual(await readParquet(chunk.path), [{ a: '1', b: 'x' }]);
  });

  it('detects the types of undeclared columns next to declared ones', async () => {
    await sandbox.write('orders.csv', 'id,amount\n1,2.5\n');
    const chunk = chunksOf(await sync(csvTable({ columns: [{ name: 'id', type: 'STRING' }, { name: 'amount', description: 'Total' }] })))[0]!;
    assert.deepEqual(chunk.schema, [{ name: 'id', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE', description: 'Total' }]);
  });

  it('reads csv.null as NULL in every type', async () => {
    await sandbox.write('orders.csv', 'id,name\nNULL,NULL\n2,\n');
    const chunk = chunksOf(await sync(csvTable({ csv: { null: 'NULL' }, columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] })))[0]!;
    assert.deepEqual(await readParquet(chunk.path), [{ id: null, name: null }, { id: '2', name: '' }]);
    // Typed columns are read as text then: an empty field is NULL, a value that does not fit still fails with its line.
    await sandbox.write('orders.csv', 'id,name\nNULL,a\n,b\n3,c\nx4,d\n');
    await rejects(csvTable({ csv: { null: 'NULL' }, columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] }), [/line 5/, /column "id"/, /"x4" is not a valid BIGINT/]);
    await sandbox.write('orders.csv', 'id,name\nNULL,a\n,b\n3,c\n');
    const typed = chunksOf(await sync(csvTable({ csv: { null: 'NULL' }, columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] })))[0]!;
    assert.deepEqual((await readParquet(typed.path)).map((r) => r.id), [null, null, '3']);
  });

  it('reads Latin-1 files when csv.encoding says so', async () => {
    await sandbox.write('orders.csv', Buffer.from('id,city\n1,Plze\xf2\n', 'latin1'));
    const chunk = chunksOf(await sync(csvTable({ csv: { encoding: 'latin1' } })))[0]!;
    assert.deepEqual(await readParquet(chunk.path), [{ id: '1', city: 'Plzeň'.replace('ň', 'ò') }]);
  });

  it('widens a type the sample got wrong by detecting over the whole file', async () => {
    const lines = ['code,n'];
    for (let i = 0; i < 30000; i++) lines.push(`${i},${i}`);
    lines.push('A-1,30000');
    await sandbox.write('orders.csv', `${lines.join('\n')}\n`);
    const chunk = chunksOf(await sync(csvTable()))[0]!;
    assert.equal(chunk.rows, 30001);
    assert.deepEqual(chunk.schema, [{ name: 'code', type: 'VARCHAR' }, { name: 'n', type: 'BIGINT' }]);
    assert.equal((await stagedFiles()).length, 1, 'the first attempt left no files behind');
  });
});

describe('CSV files and globs', () => {
  it('makes one table of all files a glob matches, one chunk per file in sorted order, sharing one detected schema', async () => {
    await sandbox.write('sales/2024-02.csv', 'id,amount,note\n3,1.5,x\n');
    await sandbox.write('sales/2024-01.csv', 'id,amount\n1,2\n2,\n');
    await sandbox.write('sales/old/2023-12.csv', 'id,amount,extra\n0,4,true\n');
    await sandbox.write('sales/.hidden.csv', 'id\nhidden\n');
    await sandbox.write('sales/readme.txt', 'not csv');
    const events = await sync(csvTable({ file: 'sales/**/*.csv' }));
    const chunks = chunksOf(events);
    assert.deepEqual(chunks.map((c) => c.sourceFile), ['sales/2024-01.csv', 'sales/2024-02.csv', 'sales/old/2023-12.csv']);
    assert.deepEqual(chunks.map((c) => c.rows), [2, 1, 1]);
    const expected = [
      { name: 'id', type: 'BIGINT' }, { name: 'amount', type: 'DOUBLE' }, { name: 'note', type: 'VARCHAR' }, { name: 'extra', type: 'BOOLEAN' },
    ];
    for (const c of chunks) {
      assert.deepEqual(c.schema, expected);
      assert.deepEqual(await parquetTypes(c.path), { id: 'BIGINT', amount: 'DOUBLE', note: 'VARCHAR', extra: 'BOOLEAN' });
    }
    assert.deepEqual(await readParquet(chunks.map((c) => c.path), 'id'), [
      { id: '0', amount: 4, note: null, extra: true },
      { id: '1', amount: 2, note: null, extra: null },
      { id: '2', amount: null, note: null, extra: null },
      { id: '3', amount: 1.5, note: 'x', extra: null },
    ]);
    assert.deepEqual(Object.keys((completeOf(events).cursor as CsvCursor).files), ['sales/2024-01.csv', 'sales/2024-02.csv', 'sales/old/2023-12.csv']);
  });

  it('reads files whose names DuckDB would take for globs', async () => {
    await sandbox.write('odd1.csv', 'v\nplain\n');
    await sandbox.write('odd[1].csv', 'v\nbracket\n');
    await sandbox.write('odd*.csv', 'v\nstar\n');
    const chunks = chunksOf(await sync(csvTable({ file: 'odd*.csv' })));
    assert.deepEqual(chunks.map((c) => c.sourceFile), ['odd*.csv', 'odd1.csv', 'odd[1].csv']);
    const values = [];
    for (const c of chunks) values.push((await readParquet(c.path)).map((r) => r.v));
    assert.deepEqual(values, [['star'], ['plain'], ['bracket']]);
    assert.deepEqual((await stagedFiles()).filter((f) => !f.endsWith('.parquet')), [], 'helper links are removed');
  });

  it('does not let a column that is empty in one file force VARCHAR', async () => {
    await sandbox.write('a.csv', 'id,amount\n1,\n');
    await sandbox.write('b.csv', 'id,amount\n2,7\n');
    const chunks = chunksOf(await sync(csvTable({ file: '*.csv' })));
    assert.deepEqual(chunks[0]!.schema, [{ name: 'id', type: 'BIGINT' }, { name: 'amount', type: 'BIGINT' }]);
  });

  it('matches *, ?, [abc] and ** like a shell, skipping dot files', async () => {
    for (const f of ['a.csv', 'b.csv', 'c.csv', 'ab.csv', 'x/y/z.csv', 'x/d.csv', '.e.csv', 'x/.h/i.csv']) await sandbox.write(f, 'v\n1\n');
    const names = async (p: string) => (await resolveTableFiles(sandbox.dir, p)).map((f) => f.relativePath);
    assert.deepEqual(await names('*.csv'), ['a.csv', 'ab.csv', 'b.csv', 'c.csv']);
    assert.deepEqual(await names('?.csv'), ['a.csv', 'b.csv', 'c.csv']);
    assert.deepEqual(await names('[ab].csv'), ['a.csv', 'b.csv']);
    assert.deepEqual(await names('[!ab].csv'), ['c.csv']);
    assert.deepEqual(await names('**/*.csv'), ['a.csv', 'ab.csv', 'b.csv', 'c.csv', 'x/d.csv', 'x/y/z.csv']);
    assert.deepEqual(await names('x/**'), ['x/d.csv', 'x/y/z.csv']);
    assert.deepEqual(await names('.e.csv'), ['.e.csv']);
    assert.deepEqual(await names(path.join(sandbox.dir, 'x', 'd.csv')), ['x/d.csv'], 'an absolute path inside the directory is fine');
  });

  it('refuses files outside the CSV directory', async () => {
    await sandbox.write('ok.csv', 'v\n1\n');
    await writeFile(path.join(sandbox.dir, '..', 'secret.csv'), 'v\n1\n');
    for (const file of ['../secret.csv', 'sub/../../secret.csv', path.join(sandbox.dir, '..', 'secret.csv'), '/etc/passwd', '../*.csv']) {
      await rejects(csvTable({ file }), [/outside the CSV directory/], 'CONFIG_INVALID');
    }
    await symlink(path.join(sandbox.dir, '..', 'secret.csv'), path.join(sandbox.dir, 'link.csv'));
    await rejects(csvTable({ file: 'link.csv' }), [/outside the CSV directory/, /link\.csv/], 'CONFIG_INVALID');
    assert.deepEqual(await stagedFiles(), []);
  });

  it('fails with CSV_INVALID naming a missing file or a glob that matches nothing', async () => {
    const missing = await rejects(csvTable({ file: 'nope/orders.csv' }), [/nope\/orders\.csv/, /not found/]);
    assert.equal(missing.details?.file, 'nope/orders.csv');
    await rejects(csvTable({ file: 'sales/*.csv' }), [/sales\/\*\.csv/, /No CSV file matches/]);
  });

  it('refuses a table without `file`', async () => {
    await rejects(csvTable({ file: undefined }), [/no `file`/], 'CONFIG_INVALID');
  });
});

describe('CSV incremental sync', () => {
  it('stages only new or changed files, hashing only when size or mtime moved', async () => {
    const a = await sandbox.write('parts/a.csv', 'id,v\n1,a\n');
    const b = await sandbox.write('parts/b.csv', 'id,v\n2,b\n');
    const table = csvTable({ file: 'parts/*.csv', syncStrategy: 'incremental', primaryKey: ['id'] });

    const first = await sync(table);
    assert.equal(completeOf(first).mode, 'replace', 'the first run replaces');
    assert.deepEqual(chunksOf(first).map((c) => c.sourceFile), ['parts/a.csv', 'parts/b.csv']);
    const cursor1 = completeOf(first).cursor as CsvCursor;
    assert.match(cursor1.files['parts/a.csv']!.sha256 ?? '', /^[0-9a-f]{64}$/);

    const unchanged = await sync(table, { cursor: cursor1 });
    assert.deepEqual(chunksOf(unchanged), []);
    assert.equal(completeOf(unchanged).mode, 'upsert');
    assert.deepEqual(completeOf(unchanged).cursor, cursor1);

    const later = new Date(Date.now() + 60_000);
    await utimes(a, later, later);
    const touched = await sync(table, { cursor: cursor1 });
    assert.deepEqual(chunksOf(touched), [], 'same content under a new mtime is not staged');
    const cursor2 = completeOf(touched).cursor as CsvCursor;
    assert.notEqual(cursor2.files['parts/a.csv']!.mtimeMs, cursor1.files['parts/a.csv']!.mtimeMs);
    assert.equal(cursor2.files['parts/a.csv']!.sha256, cursor1.files['parts/a.csv']!.sha256);

    await writeFile(b, 'id,v\n2,B\n3,c\n');
    await sandbox.write('parts/c.csv', 'id,v\n4,d\n');
    const changed = await sync(table, { cursor: cursor2 });
    assert.equal(completeOf(changed).mode, 'upsert');
    const chunks = chunksOf(changed);
    assert.deepEqual(chunks.map((c) => c.sourceFile), ['parts/b.csv', 'parts/c.csv']);
    assert.deepEqual(await readParquet(chunks.map((c) => c.path), 'id'), [{ id: '2', v: 'B' }, { id: '3', v: 'c' }, { id: '4', v: 'd' }]);
    const cursor3 = completeOf(changed).cursor as CsvCursor;
    assert.deepEqual(Object.keys(cursor3.files), ['parts/a.csv', 'parts/b.csv', 'parts/c.csv']);
    assert.notEqual(cursor3.files['parts/b.csv']!.sha256, cursor2.files['parts/b.csv']!.sha256);
    assert.match(cursor3.files['parts/c.csv']!.sha256 ?? '', /^[0-9a-f]{64}$/);
  });

  it('stages everything with mode replace for full_refresh and partitioned, whatever the cursor', async () => {
    await sandbox.write('orders.csv', 'id\n1\n');
    const first = completeOf(await sync(csvTable())).cursor;
    for (const syncStrategy of ['full_refresh', 'partitioned'] as const) {
      const events = await sync(csvTable({ syncStrategy }), { cursor: first });
      assert.equal(chunksOf(events).length, 1);
      assert.equal(completeOf(events).mode, 'replace');
    }
  });

  it('hashes a file once when its cursor predates ctime and inode, staging it only if the content differs', async () => {
    await sandbox.write('parts/a.csv', 'id,v\n1,a\n');
    const table = csvTable({ file: 'parts/*.csv', syncStrategy: 'incremental', primaryKey: ['id'] });
    const current = (completeOf(await sync(table)).cursor as CsvCursor).files['parts/a.csv']!;
    assert.equal(typeof current.ctimeMs, 'number');
    assert.equal(typeof current.ino, 'number');
    const { ctimeMs: _c, ino: _i, ...older } = current;
    const events = await sync(table, { cursor: { files: { 'parts/a.csv': older } } });
    assert.deepEqual(chunksOf(events), [], 'same content is not staged again');
    assert.deepEqual((completeOf(events).cursor as CsvCursor).files['parts/a.csv'], current);
  });

  it('drops deleted files from the cursor', async () => {
    await sandbox.write('a.csv', 'id\n1\n');
    const table = csvTable({ file: '*.csv', syncStrategy: 'incremental' });
    const cursor: CsvCursor = { files: { 'gone.csv': { size: 5, mtimeMs: 1, sha256: 'x'.repeat(64) } } };
    const events = await sync(table, { cursor });
    assert.deepEqual(Object.keys((completeOf(events).cursor as CsvCursor).files), ['a.csv']);
  });
});

describe('CSV where_filters', () => {
  it('filters rows in SQL, resolving date placeholders against the run time', async () => {
    await sandbox.write('orders.csv', 'id,status,day\n1,open,2026-03-10\n2,closed,2026-02-20\n3,open,2026-01-01\n4,void,2026-03-14\n5,open,\n');
    const table = csvTable({
      columns: [{ name: 'id', type: 'INTEGER' }, { name: 'status', type: 'STRING' }, { name: 'day', type: 'DATE' }],
      whereFilters: [
        { column: 'day', operator: 'ge', values: ['{{last_month}}'] },
        { column: 'status', operator: 'ne', values: ['void'] },
      ],
    });
    const chunk = chunksOf(await sync(table, { now: new Date('2026-03-15T10:00:00Z') }))[0]!;
    assert.equal(chunk.rows, 2);
    assert.deepEqual((await readParquet(chunk.path)).map((r) => r.id), ['1', '2']);
  });

  it('refuses a filter on an unknown column or with a value that does not fit the column', async () => {
    await sandbox.write('orders.csv', 'id\n1\n');
    await rejects(csvTable({ whereFilters: [{ column: 'nope', operator: 'eq', values: ['1'] }] }), [/where_filters column "nope"/], 'CONFIG_INVALID');
    await rejects(csvTable({ whereFilters: [{ column: 'id', operator: 'gt', values: ['abc'] }] }), [/where_filters/, /abc/], 'CONFIG_INVALID');
  });
});

describe('CSV bad input', () => {
  it('reports a row with too few fields with file and line', async () => {
    await sandbox.write('data/orders.csv', 'id,name\n1,a\n2\n3,c\n');
    const err = await rejects(csvTable({ file: 'data/orders.csv' }), [/"data\/orders\.csv"/, /line 3/, /expected 2 fields, found 1/]);
    assert.deepEqual([err.details?.file, err.details?.line], ['data/orders.csv', 3]);
    assert.deepEqual(await stagedFiles(), []);
  });

  it('reports a row with too many fields, also with declared columns', async () => {
    await sandbox.write('orders.csv', 'id,name\n1,a\n2,b,extra\n');
    await rejects(csvTable(), [/"orders\.csv"/, /line 3/, /expected 2 fields, found 3/]);
    await rejects(csvTable({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] }), [/line 3/, /found 3/]);
  });

  it('reports a value that does not fit a declared type with line and column, counting physical lines', async () => {
    await sandbox.write('orders.csv', 'id,note\n1,"two\nlines"\n2,ok\nx3,bad\n');
    const err = await rejects(csvTable({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'note', type: 'STRING' }] }), [/"orders\.csv"/, /line 5/, /column "id"/, /"x3" is not a valid BIGINT/]);
    assert.deepEqual([err.details?.line, err.details?.column], [5, 'id']);
  });

  it('reports bad dates, timestamps and booleans of declared columns with line and column', async () => {
    await sandbox.write('d.csv', 'id,day\n1,2024-01-01\n2,0000-00-00\n3,2024-02-30\n');
    await rejects(csvTable({ file: 'd.csv', columns: [{ name: 'id', type: 'INTEGER' }, { name: 'day', type: 'DATE' }] }), [/"d\.csv"/, /line 4/, /column "day"/, /"2024-02-30" is not a valid DATE/]);
    await sandbox.write('t.csv', 'id,at\n1,2024-01-01 10:00:00\n2,yesterday\n');
    await rejects(csvTable({ file: 't.csv', columns: [{ name: 'id', type: 'INTEGER' }, { name: 'at', type: 'TIMESTAMP_TZ' }] }), [/line 3/, /column "at"/, /"yesterday"/]);
    // Shaped like the plain spelling a TIMESTAMP is parsed by first, but no date.
    await sandbox.write('t.csv', 'id,at\n1,2024-01-01 10:00:00\n2,\n3,2024-02-30 10:00:00\n');
    await rejects(csvTable({ file: 't.csv', columns: [{ name: 'id', type: 'INTEGER' }, { name: 'at', type: 'TIMESTAMP' }] }), [/line 4/, /column "at"/, /"2024-02-30 10:00:00" is not a valid TIMESTAMP/]);
    await sandbox.write('b.csv', 'id,ok\n1,yes\n2,maybe\n');
    await rejects(csvTable({ file: 'b.csv', columns: [{ name: 'id', type: 'INTEGER' }, { name: 'ok', type: 'BOOLEAN' }] }), [/line 3/, /column "ok"/, /"maybe" is not a valid BOOLEAN/]);
    assert.deepEqual(await stagedFiles(), []);
  });

  it('refuses a declared DATE whose text has a time of day or an offset instead of dropping it', async () => {
    const columns = [{ name: 'id', type: 'INTEGER' }, { name: 'day', type: 'DATE' }];
    await sandbox.write('d.csv', 'id,day\n1,2025-11-02\n2,2025-11-02 00:00:00\n3,2025-11-02T00:00:00Z\n');
    const chunk = chunksOf(await sync(csvTable({ file: 'd.csv', columns })))[0]!;
    assert.deepEqual((await readParquet(chunk.path)).map((r) => r.day), ['2025-11-02', '2025-11-02', '2025-11-02']);
    for (const value of ['2025-11-02 10:00:00', '2025-11-02T00:00:00+01:00']) {
      await sandbox.write('d.csv', `id,day\n1,2025-11-02\n2,${value}\n`);
      await rejects(csvTable({ file: 'd.csv', columns }), [/"d\.csv" line 3/, /column "day"/, new RegExp(`"${value.replace('+', '\\+')}" is not a valid DATE`)]);
    }
  });

  it('reports invalid UTF-8 bytes with file and line', async () => {
    await sandbox.write('orders.csv', Buffer.concat([Buffer.from('id,name\n1,ok\n2,'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n3,fine\n')]));
    await rejects(csvTable(), [/"orders\.csv"/, /line 3/, /invalid UTF-8/]);
    await rejects(csvTable({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] }), [/line 3/, /invalid UTF-8/]);
  });

  it('reports invalid UTF-8 in the header as line 1', async () => {
    await sandbox.write('orders.csv', Buffer.concat([Buffer.from('id,na'), Buffer.from([0xc3, 0x28]), Buffer.from('me\n1,a\n')]));
    await rejects(csvTable(), [/"orders\.csv" line 1/, /invalid UTF-8/]);
  });

  it('reports an unterminated quote', async () => {
    await sandbox.write('orders.csv', 'id,name\n1,"open\n2,b\n');
    await rejects(csvTable({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] }), [/"orders\.csv" line 2/, /unterminated quoted field/]);
  });

  it('reads files mixing CRLF, LF and CR line endings as written, and still names later problems by physical line', async () => {
    const columns = [{ name: 'id', type: 'INTEGER' }, { name: 'note', type: 'STRING' }];
    await sandbox.write('orders.csv', 'id,note\r\n1,"a\r\nb"\n2,c\r3,"d\ne"\r\n');
    for (const table of [csvTable(), csvTable({ columns })]) {
      const chunk = chunksOf(await sync(table))[0]!;
      assert.deepEqual(await readParquet(chunk.path), [{ id: '1', note: 'a\r\nb' }, { id: '2', note: 'c' }, { id: '3', note: 'd\ne' }]);
      assert.deepEqual(await stagedFiles(), [path.basename(chunk.path)], 'the normalised copy is removed');
      await rm(chunk.path);
    }
    await sandbox.write('orders.csv', 'id,note\r\n1,"a\r\nb"\r\n2,c,extra\r\n3,d\n');
    const err = await rejects(csvTable({ columns }), [/"orders\.csv" line 4/, /expected 2 fields, found 3/]);
    assert.equal(err.details?.line, 4);
  });

  it('names file, line, size and limit of a record longer than csv.max_line_size', async () => {
    const long = 'x'.repeat(3000);
    for (const field of [long, `"${long}"`]) {
      await sandbox.write('orders.csv', `id,note\n1,a\n2,"two\nlines"\n3,${field}\n4,d\n`);
      for (const columns of [[], [{ name: 'id', type: 'INTEGER' }, { name: 'note', type: 'STRING' }]]) {
        const err = await rejects(csvTable({ csv: { maxLineSize: 2000 }, columns }), [/"orders\.csv" line 5/, new RegExp(`record of ${(field.length + 2).toLocaleString('en-US')} bytes`), /limit of 2,000 bytes/, /csv\.max_line_size: 1000000/]);
        assert.equal(err.details?.line, 5);
      }
    }
    const chunk = chunksOf(await sync(csvTable({ csv: { maxLineSize: 4000 } })))[0]!;
    assert.equal(chunk.rows, 4);
  });

  it('reports a header that does not match the declared columns', async () => {
    await sandbox.write('orders.csv', 'id,nmae\n1,a\n');
    const err = await rejects(csvTable({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] }), [/"orders\.csv" line 1/, /missing "name"/, /unexpected "nmae"/]);
    assert.deepEqual(err.details?.missing, ['name']);
  });

  it('names the bad file of a glob and stages nothing', async () => {
    await sandbox.write('p/1.csv', 'id,v\n1,a\n');
    await sandbox.write('p/2.csv', 'id,v\n2,b\n3\n');
    await rejects(csvTable({ file: 'p/*.csv' }), [/"p\/2\.csv" line 3/]);
    assert.deepEqual(await stagedFiles(), []);
  });
});

describe('CSV disk full', () => {
  const devFull = stat('/dev/full').then((s) => s.isCharacterDevice(), () => false);
  it('names the file, the space needed and free, and that nothing was published when the disk is full', async (t) => {
    if (!await devFull) return t.skip('/dev/full is not available');
    const csv = `id,v\n${Array.from({ length: 2000 }, (_v, i) => `${i},${'v'.repeat(40)}`).join('\n')}\n`;
    await sandbox.write('orders.csv', csv);
    // The staged chunk's path is known in advance; a link to /dev/full makes the kernel answer ENOSPC to DuckDB's writes.
    const partial = path.join(sandbox.workDir, '00001-orders.csv.parquet.partial');
    await symlink('/dev/full', partial);
    const err = await rejects(csvTable({ columns: [{ name: 'id', type: 'INTEGER' }, { name: 'v', type: 'STRING' }] }), [
      new RegExp(`Not enough disk space to write ${partial.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      /no space left on device/,
      new RegExp(`about ${(Buffer.byteLength(csv) / 1024).toFixed(1)} KB needed`),
      /free on its filesystem/,
      /CSV file "orders\.csv" of table in\.c-csv\.orders was not staged, and the table's published files are unchanged/,
    ], 'DISK_FULL');
    assert.equal(err.details?.path, partial);
    assert.deepEqual(await stagedFiles(), [], 'the partial file (here the link) is removed');
  });
});

describe('CSV cancellation', () => {
  let big: string;
  before(() => {
    const lines = ['id,name,amount'];
    for (let i = 0; i < 200_000; i++) lines.push(`${i},name ${i},${i * 1.5}`);
    big = `${lines.join('\n')}\n`;
  });

  it('fails with CANCELLED and leaves no chunk when the signal is already aborted', async () => {
    await sandbox.write('orders.csv', 'id\n1\n');
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(sync(csvTable(), { signal: controller.signal }), { code: 'CANCELLED' });
    assert.deepEqual(await stagedFiles(), []);
  });

  it('interrupts DuckDB when aborted in the middle of a file', async () => {
    await sandbox.write('orders.csv', big.repeat(10).replace(/\nid,name,amount\n/g, '\n'));
    const controller = new AbortController();
    const kinds: string[] = [];
    await assert.rejects(new Promise((resolve, reject) => {
      connector.sync(syncRequest(csvTable(), sandbox.workDir, { signal: controller.signal })).subscribe({
        next: (e) => {
          kinds.push(e.kind);
          // The first progress comes before detection; once the partial Parquet file exists, DuckDB is
          // inside the COPY of ~2M rows (no timer: a loaded machine only makes the COPY longer).
          if (kinds.length === 1) void untilStaged().then(() => controller.abort());
        },
        error: reject,
        complete: () => resolve(undefined),
      });
    }), { code: 'CANCELLED' });
    assert.deepEqual(kinds, ['progress']);
    assert.deepEqual(await stagedFiles(), [], 'the partial Parquet file is removed');
  });

  it('cancels running syncs when the connector closes', async () => {
    await sandbox.write('orders.csv', big);
    let closing: Promise<void> | undefined;
    await assert.rejects(new Promise((resolve, reject) => {
      connector.sync(syncRequest(csvTable(), sandbox.workDir)).subscribe({
        next: () => { closing ??= connector.close?.(); },
        error: reject,
        complete: () => resolve(undefined),
      });
    }), { code: 'CANCELLED' });
    await closing;
    assert.deepEqual(await stagedFiles(), []);
  });

  it('stops between files when aborted during a run', async () => {
    for (let i = 0; i < 4; i++) await sandbox.write(`p/${i}.csv`, big);
    const controller = new AbortController();
    const events: string[] = [];
    await assert.rejects(new Promise((resolve, reject) => {
      connector.sync(syncRequest(csvTable({ file: 'p/*.csv' }), sandbox.workDir, { signal: controller.signal })).subscribe({
        next: (e) => {
          events.push(e.kind);
          if (e.kind === 'progress' && e.rows !== 0) controller.abort();
        },
        error: reject,
        complete: () => resolve(undefined),
      });
    }), { code: 'CANCELLED' });
    assert.ok(!events.includes('chunk') && !events.includes('complete'));
    assert.deepEqual(await stagedFiles(), []);
  });
});

