/** `ada init` for the CSV source: every `.csv` file of the CSV directory becomes a table. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { yamlLiteral } from '../../config/index.ts';
import type { AdaConfig } from '../../config/index.ts';
import { SetupExit } from '../../pipeline/index.ts';
import type { ConnectorSetup, Discovered, Parsed, SetupAnswers, SetupContext, SetupTable } from '../../pipeline/index.ts';
import { resolveTableFiles } from './table-files.ts';

/** Files deeper than this below the CSV directory are not offered (a data dump, not tables someone drops in). */
const MAX_DEPTH = 3;
/** The bucket of a CSV file at the top of the directory, as the config loader names it: the source. */
const TOP_BUCKET = 'csv';

/**
 * The CSV files under `dir` (sorted), each as a table: `sales/orders.csv` has id `sales.orders` (bucket `sales`),
 * `budget.csv` id `budget` (bucket `csv`). Names with glob characters are skipped, since `file` would read them as
 * a pattern. A missing directory has no tables.
 */
export async function scanCsvDir(dir: string): Promise<{ tables: SetupTable[]; missing: boolean }> {
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
  const tables = files.sort().map((file): SetupTable => {
    // Dots inside a segment would move the bucket boundary of the id, so they become underscores.
    const id = file.replace(/\.csv$/i, '').split('/').map((s) => s.replaceAll('.', '_')).join('.');
    const dot = id.lastIndexOf('.');
    return { id, bucket: dot === -1 ? TOP_BUCKET : id.slice(0, dot), tableName: dot === -1 ? id : id.slice(dot + 1), primaryKey: [], columns: [], file };
  });
  return { tables, missing: !exists };
}

/** Asks for the CSV directory and offers every CSV file in it. */
export const csvSetup: ConnectorSetup = {
  flags: [{ name: 'csv-dir', usage: '--csv-dir DIR' }],
  takesSecret: false,
  dotenvVars: [],
  previous(section): Record<string, string> {
    const dir = section?.dir;
    return (typeof dir === 'string' || typeof dir === 'number') && !String(dir).includes('${') && String(dir).trim() !== '' ? { csvDir: String(dir) } : {};
  },
  async ask(ctx, previous): Promise<SetupAnswers> {
    const previousAbs = previous.csvDir ? path.resolve(ctx.configDir, previous.csvDir) : path.resolve(ctx.configDir, '..', 'data', 'csv');
    const dir = await ctx.answer({
      flag: ctx.flags['csv-dir'], flagName: 'csv-dir', question: 'CSV directory (relative to the current directory)', defaultValue: ctx.show(previousAbs),
      parse: (raw): Parsed<string> => (raw.trim() === '' ? { problem: 'a directory is required' } : { value: path.resolve(ctx.cwd, raw.trim()) }),
    });
    const rel = path.relative(ctx.configDir, dir).split(path.sep).join('/');
    const written = path.isAbsolute(rel) ? dir : rel === '' ? '.' : rel;
    const { tables, missing } = await scanCsvDir(dir);
    if (missing) ctx.err(`note: ${ctx.show(dir)} does not exist yet; create it and put CSV files there, then run \`ada init\` again to describe them`);
    else ctx.out(`Found ${tables.length} CSV file${tables.length === 1 ? '' : 's'} in ${ctx.show(dir)}.`);
    return {
      sectionLines: ['  csv:', `    dir: ${yamlLiteral(written)}   # relative to this directory`],
      dotenv: {},
      discovered: discoveredCsv(ctx, dir, tables),
    };
  },
  async discover(ctx, config: AdaConfig): Promise<Discovered | number> {
    const dir = config.instance.dataSource.csv?.dir;
    if (!dir) return SetupExit.usage;
    const { tables, missing } = await scanCsvDir(dir);
    if (missing) ctx.err(`warning: the CSV directory ${ctx.show(dir)} does not exist`);
    return discoveredCsv(ctx, dir, await undescribedFiles(config, dir, tables));
  },
};

function discoveredCsv(ctx: SetupContext, dir: string, tables: SetupTable[]): Discovered {
  return { label: `the CSV files in ${ctx.show(dir)}`, buckets: [], tables, pickBuckets: false, complete: false };
}

/** CSV files that no configured CSV table reads (a table's `file` may be a glob covering several). */
async function undescribedFiles(config: AdaConfig, dir: string, tables: SetupTable[]): Promise<SetupTable[]> {
  const covered = new Set<string>();
  for (const t of config.tables) {
    if (t.source !== 'csv' || !t.file) continue;
    try {
      for (const f of await resolveTableFiles(dir, t.file)) covered.add(f.relativePath);
    } catch {
      // A pattern matching nothing covers nothing.
    }
  }
  return tables.filter((t) => t.file === undefined || !covered.has(t.file));
}
