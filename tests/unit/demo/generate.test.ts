import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEMO_COLUMNS, DEMO_CSV_DIR, generateDemo } from '../../../examples/demo/generate.ts';
import type { DemoResult, DemoTable } from '../../../examples/demo/generate.ts';

interface ParsedField {
  value: string;
  quoted: boolean;
}

/** Strict RFC 4180 parser (LF or CRLF records) that remembers which fields were quoted. */
function parseCsv(text: string): ParsedField[][] {
  const records: ParsedField[][] = [];
  let record: ParsedField[] = [];
  let i = 0;
  while (i < text.length) {
    let value = '';
    let quoted = false;
    if (text[i] === '"') {
      quoted = true;
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        const ch = text[i];
        if (ch === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          value += ch;
          i++;
        }
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        if (text[i] === '"') throw new Error(`bare quote in an unquoted field at offset ${i}`);
        value += text[i];
        i++;
      }
    }
    record.push({ value, quoted });
    if (text[i] === ',') {
      i++;
    } else if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      records.push(record);
      record = [];
    } else if (text[i] === '\n') {
      i++;
      records.push(record);
      record = [];
    } else if (i < text.length) {
      throw new Error(`unexpected character after a field at offset ${i}`);
    }
  }
  if (record.length > 0) records.push(record);
  return records;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

const tableOf = (file: string): DemoTable => (file.startsWith('order_lines/') ? 'order_lines' : (file.replace(/\.csv$/, '') as DemoTable));

/** Expected data rows per table; change together with the generator. */
const EXPECTED_ROWS: Record<DemoTable, number> = {
  customers: 500,
  products: 80,
  orders: 3000,
  order_lines: 5844,
  web_events: 3000,
  customer_credit: 136,
};

describe('demo generator', () => {
  let tmp: string;
  let dirA: string;
  let dirB: string;
  let result: DemoResult;
  /** Parsed data rows per table, as objects keyed by column name. */
  const tables = new Map<DemoTable, Record<string, ParsedField>[]>();
  const fileTexts = new Map<string, string>();

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ada-demo-'));
    dirA = path.join(tmp, 'a');
    dirB = path.join(tmp, 'b');
    result = await generateDemo(dirA);
    await generateDemo(dirB);
    for (const file of result.files) {
      const text = await readFile(path.join(dirA, file), 'utf8');
      fileTexts.set(file, text);
      const [header, ...rows] = parseCsv(text);
      const table = tableOf(file);
      const columns: readonly string[] = DEMO_COLUMNS[table];
      assert.deepEqual(header?.map((f) => f.value), columns, `${file}: header`);
      const objects = rows.map((row, n) => {
        assert.equal(row.length, columns.length, `${file}: record ${n + 1} has ${row.length} fields`);
        return Object.fromEntries(columns.map((c, k) => [c, row[k] as ParsedField]));
      });
      tables.set(table, [...(tables.get(table) ?? []), ...objects]);
    }
  });

  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const rowsOf = (table: DemoTable): Record<string, ParsedField>[] => tables.get(table) ?? [];
  const valuesOf = (table: DemoTable, column: string): string[] => rowsOf(table).map((r) => r[column]?.value ?? '');

  test('writes the expected files', async () => {
    const months: string[] = [];
    for (const year of [2024, 2025]) for (let m = 1; m <= 12; m++) months.push(`order_lines/${year}-${String(m).padStart(2, '0')}.csv`);
    const expected = ['customer_credit.csv', 'customers.csv', 'orders.csv', 'products.csv', 'web_events.csv', ...months].sort();
    assert.deepEqual(result.files, expected);
    assert.deepEqual(await listFiles(dirA), expected);
  });

  test('is deterministic: two runs give byte-identical files', async () => {
    assert.deepEqual(await listFiles(dirB), result.files);
    for (const file of result.files) {
      const [a, b] = await Promise.all([readFile(path.join(dirA, file)), readFile(path.join(dirB, file))]);
      assert.ok(a.equals(b), `${file} differs between runs`);
    }
  });

  test('the committed CSVs equal a fresh generation', async () => {
    const hint = 'regenerate with `npx tsx examples/demo/generate.ts` and commit examples/demo/csv/';
    assert.deepEqual(await listFiles(DEMO_CSV_DIR), result.files, `file list differs; ${hint}`);
    for (const file of result.files) {
      const [committed, fresh] = await Promise.all([readFile(path.join(DEMO_CSV_DIR, file)), readFile(path.join(dirA, file))]);
      assert.ok(committed.equals(fresh), `examples/demo/csv/${file} is stale; ${hint}`);
    }
  });

  test('row counts match the report and the expected sizes', () => {
    for (const table of Object.keys(DEMO_COLUMNS) as DemoTable[]) {
      assert.equal(rowsOf(table).length, result.rows[table], `${table}: parsed rows vs reported`);
    }
    assert.deepEqual(result.rows, EXPECTED_ROWS);
  });

  test('stays small', async () => {
    let total = 0;
    for (const file of result.files) total += (await stat(path.join(dirA, file))).size;
    assert.ok(total < 3 * 1024 * 1024, `total size ${total} bytes`);
  });

  test('uses RFC 4180 quoting: commas, newlines and doubled quotes inside quoted fields', () => {
    const fields = [...tables.values()].flat().flatMap((r) => Object.values(r));
    assert.ok(fields.some((f) => f.quoted && f.value.includes(',')), 'a quoted field with a comma');
    assert.ok(fields.some((f) => f.quoted && f.value.includes('\n')), 'a quoted field with a newline');
    assert.ok(fields.some((f) => f.quoted && f.value.includes('"')), 'a quoted field with a double quote');
    for (const f of fields) {
      if (!f.quoted) assert.doesNotMatch(f.value, /[",\r\n]/);
    }
    const notes = rowsOf('customers').map((r) => r.notes);
    assert.ok(notes.some((n) => n?.value === '' && !n.quoted), 'some notes are null (empty)');
  });

  test('is UTF-8 without BOM and includes non-ASCII names', () => {
    for (const [file, text] of fileTexts) {
      assert.notEqual(text.charCodeAt(0), 0xfeff, `${file} starts with a BOM`);
      assert.ok(!text.includes('\ufffd'), `${file} is not valid UTF-8`);
    }
    const names = valuesOf('customers', 'name').join('\n');
    for (const ch of ['é', 'ö', 'ñ']) assert.ok(names.includes(ch), `a customer name with ${ch}`);
  });

  test('primary keys are unique', () => {
    const keys: [DemoTable, string[]][] = [
      ['customers', ['customer_id']],
      ['products', ['product_id']],
      ['orders', ['order_id']],
      ['order_lines', ['order_id', 'line_no']],
      ['web_events', ['event_id']],
      ['customer_credit', ['customer_id']],
    ];
    for (const [table, columns] of keys) {
      const seen = new Set(rowsOf(table).map((r) => columns.map((c) => r[c]?.value).join('|')));
      assert.equal(seen.size, rowsOf(table).length, `${table}: duplicate ${columns.join(', ')}`);
      for (const key of seen) assert.ok(!key.split('|').includes(''), `${table}: empty key`);
    }
  });

  test('foreign keys resolve', () => {
    const customers = new Set(valuesOf('customers', 'customer_id'));
    const products = new Set(valuesOf('products', 'product_id'));
    const orders = new Set(valuesOf('orders', 'order_id'));
    for (const id of valuesOf('orders', 'customer_id')) assert.ok(customers.has(id), `orders.customer_id ${id}`);
    for (const id of valuesOf('order_lines', 'order_id')) assert.ok(orders.has(id), `order_lines.order_id ${id}`);
    for (const id of valuesOf('order_lines', 'product_id')) assert.ok(products.has(id), `order_lines.product_id ${id}`);
    for (const id of valuesOf('web_events', 'customer_id')) assert.ok(id === '' || customers.has(id), `web_events.customer_id ${id}`);
    for (const id of valuesOf('customer_credit', 'customer_id')) assert.ok(customers.has(id), `customer_credit.customer_id ${id}`);
    assert.equal(new Set(valuesOf('order_lines', 'order_id')).size, orders.size, 'every order has lines');
  });

  test('dates fall in the documented ranges and monthly files hold their month', () => {
    const ts = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
    for (const at of valuesOf('orders', 'ordered_at')) {
      assert.match(at, ts);
      assert.ok(at >= '2024-01-01' && at < '2026-01-01', `order at ${at}`);
    }
    for (const at of valuesOf('web_events', 'occurred_at')) {
      assert.match(at, ts);
      assert.ok(at >= '2025-11-02' && at < '2026-01-01', `web event at ${at}`);
    }
    for (const [file, text] of fileTexts) {
      if (!file.startsWith('order_lines/')) continue;
      const month = file.slice('order_lines/'.length, -'.csv'.length);
      const rows = parseCsv(text).slice(1);
      assert.ok(rows.length > 0, `${file} is empty`);
      for (const row of rows) assert.equal(row[6]?.value.slice(0, 7), month, `${file}: ordered_at outside the month`);
    }
  });

  test('order totals equal the sum of their lines', () => {
    const cents = (s: string): number => Math.round(Number(s) * 100);
    const sums = new Map<string, number>();
    for (const line of rowsOf('order_lines')) {
      const id = line.order_id?.value ?? '';
      const qty = Number(line.quantity?.value);
      const discount = Number(line.discount?.value || '0');
      sums.set(id, (sums.get(id) ?? 0) + Math.round(qty * cents(line.unit_price?.value ?? '0') * (1 - discount)));
    }
    for (const order of rowsOf('orders')) {
      const id = order.order_id?.value ?? '';
      assert.equal(cents(order.total_amount?.value ?? ''), sums.get(id), `order ${id} total`);
    }
  });
});
