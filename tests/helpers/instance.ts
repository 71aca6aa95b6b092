/** A throw-away CSV instance for end-to-end tests: config dir, CSV dir and data dir in a temp folder. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { tempDir } from './tmp.ts';

/** Paths of a test instance. */
export interface TestInstance {
  root: string;
  configDir: string;
  csvDir: string;
  dataDir: string;
  /** Writes a CSV file (relative to the CSV dir). */
  writeCsv(relative: string, text: string): Promise<void>;
  /** Common CLI flags: --config and --data. */
  flags: string[];
}

/** Creates an instance whose `data_description.md` holds the given `tables:` YAML. */
export async function csvInstance(t: Pick<TestContext, 'after'>, tablesYaml: string, extraInstanceYaml = ''): Promise<TestInstance> {
  const root = await tempDir(t, 'ada-instance-');
  const configDir = path.join(root, 'config');
  const csvDir = path.join(root, 'csv');
  const dataDir = path.join(root, 'data');
  await mkdir(configDir, { recursive: true });
  await mkdir(csvDir, { recursive: true });
  await writeFile(path.join(configDir, 'instance.yaml'), [
    'instance:',
    '  name: Test shop',
    'auth:',
    '  allowed_domain: example.com',
    '  webapp_secret_key: test-secret-key-0123456789',
    'data_source:',
    '  type: csv',
    '  csv:',
    '    dir: ../csv',
    extraInstanceYaml,
  ].join('\n'));
  await writeFile(path.join(configDir, 'data_description.md'), `# Test data\n\n\`\`\`yaml\nfolder_mapping:\n  csv.shop: shop\n  csv.web: web\ntables:\n${tablesYaml}\n\`\`\`\n`);
  return {
    root, configDir, csvDir, dataDir,
    async writeCsv(relative, text) {
      const file = path.join(csvDir, relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
    },
    flags: ['--config', configDir, '--data', dataDir],
  };
}

/** One entry of csvInstance's `tables:` YAML: a CSV table of the `shop` folder, its columns by name and type. */
export function shopTable(t: { name: string; description: string; file: string; strategy: 'full_refresh' | 'incremental'; primaryKey?: string; columns: Record<string, string> }): string {
  return [
    `  - id: csv.shop.${t.name}`, `    name: ${t.name}`, `    description: ${t.description}`,
    ...(t.primaryKey ? [`    primary_key: ${t.primaryKey}`] : []),
    `    sync_strategy: ${t.strategy}`, `    file: "${t.file}"`, '    columns:',
    ...Object.entries(t.columns).map(([name, type]) => `      - {name: ${name}, type: ${type}}`), '',
  ].join('\n');
}

/** Runs a query with a fresh in-memory DuckDB and returns row objects (BigInts turned into numbers). */
export async function query(sql: string): Promise<Array<Record<string, unknown>>> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** data_description.md tables: one public `orders` table read from orders.csv, the smallest instance a command syncs. */
export const ORDERS_TABLE = `  - id: csv.shop.orders
    name: orders
    description: Orders
    file: orders.csv
`;

/** An instance of the `orders` table (and `extraTables`, YAML like {@link ORDERS_TABLE}) with orders.csv holding `csv`. */
export async function ordersInstance(t: Pick<TestContext, 'after'>, csv: string, extraTables = ''): Promise<TestInstance> {
  const inst = await csvInstance(t, ORDERS_TABLE + extraTables);
  await inst.writeCsv('orders.csv', csv);
  return inst;
}

/** data_description.md tables: a public `orders` and a private `credit`, for tests of who sees what. */
export const PUBLIC_AND_PRIVATE_TABLES = `${ORDERS_TABLE}  - id: csv.finance.credit
    name: credit
    description: Credit limits
    private: true
    file: credit.csv
`;
