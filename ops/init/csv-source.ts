/** The init wizard's view of a CSV directory: every `.csv` file in it becomes a table. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ProjectTable } from './project.ts';

/** Files deeper than this below the CSV directory are not offered (a data dump, not tables someone drops in). */
const MAX_DEPTH = 3;
/** The bucket of a CSV file at the top of the directory, as the config loader names it: the source. */
const TOP_BUCKET = 'csv';

/**
 * The CSV files under `dir` (sorted), each as a table: `sales/orders.csv` has id `sales.orders` (bucket `sales`),
 * `budget.csv` id `budget` (bucket `csv`). Names with glob characters are skipped, since `file` would read them as
 * a pattern. A missing directory has no tables.
 */
export async function scanCsvDir(dir: string): Promise<{ tables: ProjectTable[]; missing: boolean }> {
  const files: string[] = [];
  const walk = async (rel: string, depth: number): Promise<boolean> => {
    let entries;
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || /[*?[\]]/.test(entry.name)) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory() && depth < MAX_DEPTH) await walk(child, depth + 1);
      else if (entry.isFile() && /\.csv$/i.test(entry.name)) files.push(child);
    }
    return true;
  };
  const exists = await walk('', 1);
  const tables = files.sort().map((file): ProjectTable => {
    // Dots inside a segment would move the bucket boundary of the id, so they become underscores.
    const id = file.replace(/\.csv$/i, '').split('/').map((s) => s.replaceAll('.', '_')).join('.');
    const dot = id.lastIndexOf('.');
    return { id, bucket: dot === -1 ? TOP_BUCKET : id.slice(0, dot), tableName: dot === -1 ? id : id.slice(dot + 1), primaryKey: [], columns: [], file };
  });
  return { tables, missing: !exists };
}
