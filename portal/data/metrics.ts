/** Business metric definitions: YAML files of `{name, description, sql, tables}` (UPSTREAM's docs/metrics/*.yml). */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';

/** One business metric. */
export interface MetricDefinition {
  /** File name without `.yml`: the metric's id in URLs. */
  id: string;
  name: string;
  description: string;
  sql: string;
  /** Tables the metric uses. */
  tables: string[];
  category?: string;
  unit?: string;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** Reads every `*.yml` of a directory (missing directory: none); a file that is not a metric is reported through `warn` and skipped. */
export async function loadMetrics(dir: string, warn: (message: string) => void = () => undefined): Promise<MetricDefinition[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const metrics: MetricDefinition[] = [];
  for (const file of names) {
    const where = path.join(dir, file);
    let doc: Record<string, unknown>;
    try {
      doc = YAML.parse(await readFile(where, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      warn(`${where}: not YAML (${(err as Error).message})`);
      continue;
    }
    const name = text(doc?.name);
    const sql = text(doc?.sql);
    if (!name || !sql) {
      warn(`${where}: a metric needs "name" and "sql"`);
      continue;
    }
    const tables = Array.isArray(doc.tables) ? doc.tables.filter((t): t is string => typeof t === 'string') : [];
    metrics.push({
      id: file.replace(/\.ya?ml$/, ''), name, sql, tables,
      description: text(doc.description) ?? '',
      ...(text(doc.category) ? { category: text(doc.category)! } : {}),
      ...(text(doc.unit) ? { unit: text(doc.unit)! } : {}),
    });
  }
  return metrics;
}
