/** Shared pieces of the SIGKILL tests: a shop instance with a full-refresh and a partitioned table, and kill timing. */
import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { query } from './instance.ts';

/** data_description.md tables: `big` (full refresh) and `parts` (partitioned by month), both read from big.csv. */
export const SHOP_TABLES = `  - id: csv.shop.big
    name: big
    description: A big full-refresh table
    primary_key: id
    file: big.csv
    columns:
      - {name: id, type: INTEGER}
      - {name: ts, type: TIMESTAMP}
      - {name: note, type: STRING}
  - id: csv.shop.parts
    name: parts
    description: A partitioned table
    primary_key: id
    sync_strategy: partitioned
    partition_by: ts
    file: big.csv
    columns:
      - {name: id, type: INTEGER}
      - {name: ts, type: TIMESTAMP}
      - {name: note, type: STRING}
`;

/** big.csv with `rows` rows over the twelve months of 2024; `tag` marks a version, and each note holds a comma. */
export function shopCsv(rows: number, tag: string): string {
  const out = ['id,ts,note'];
  for (let i = 0; i < rows; i++) {
    const month = String((i % 12) + 1).padStart(2, '0');
    out.push(`${i},2024-${month}-0${(i % 9) + 1} 12:00:00,"${tag} row ${i}, with a comma"`);
  }
  return `${out.join('\n')}\n`;
}

/** Every file below `dir`, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

/** Row count of each shop table as published now; every Parquet file must be readable. */
export async function publishedRows(dataDir: string): Promise<{ big: number; parts: number }> {
  const shop = path.join(dataDir, 'parquet', 'shop');
  for (const f of (await filesUnder(shop)).filter((x) => x.endsWith('.parquet'))) {
    await query(`SELECT count(*) FROM read_parquet('${f}')`);
  }
  const big = (await query(`SELECT count(*) AS n FROM '${shop}/big.parquet'`))[0]!.n as number;
  const parts = (await query(`SELECT count(*) AS n FROM read_parquet('${shop}/parts/*.parquet')`))[0]!.n as number;
  return { big, parts };
}

/**
 * SIGKILLs `child` as soon as `reached()` is true (polled every millisecond: a moment the run itself reaches, which a
 * loaded machine cannot shift), or after `delayMs` when no condition is given. Resolves whether the kill landed.
 */
export function killWhen(child: ChildProcess, reached: (() => boolean) | undefined, delayMs = 0): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = reached ? setInterval(() => { if (reached()) child.kill('SIGKILL'); }, 1) : setTimeout(() => { child.kill('SIGKILL'); }, delayMs);
    child.on('exit', (_code, signal) => {
      clearInterval(timer);
      clearTimeout(timer);
      resolve(signal === 'SIGKILL');
    });
  });
}
