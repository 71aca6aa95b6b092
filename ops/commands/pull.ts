/** `ada pull`: the analyst's copy of their tables, DuckDB views and assistant guides, from a broker. */
import { access } from 'node:fs/promises';
import type { Command, CommandContext } from '../command.ts';
import { formatBytes } from '../format.ts';
import { UsageError } from '../usage-error.ts';
import type { PullProgress, PullResult } from '../pull/index.ts';

/** Minimum time between two redraws of the progress bar. */
const PROGRESS_EVERY_MS = 100;

/** A progress bar on stderr (a terminal), redrawn at most every PROGRESS_EVERY_MS. */
function progressBar(): (p: PullProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < PROGRESS_EVERY_MS && p.filesDone < p.files) return;
    last = now;
    const ratio = p.bytes ? Math.min(1, p.bytesDone / p.bytes) : 1;
    const width = 24;
    const bar = '#'.repeat(Math.round(ratio * width)).padEnd(width, '.');
    process.stderr.write(`\r[${bar}] ${p.filesDone}/${p.files} files, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytes)}   `);
    if (p.filesDone === p.files) process.stderr.write('\n');
  };
}

/** Options of `runPull`. */
export interface RunPullOptions {
  dir: string;
  server?: string;
  token?: string;
  dryRun?: boolean;
  progress?: boolean;
}

/** Pulls, then rebuilds the DuckDB views and guides when the copy changed (or they are missing). */
export async function runPull(opts: RunPullOptions, ctx: CommandContext): Promise<PullResult & { views?: string[] }> {
  const lib = await import('../pull/index.ts');
  const layout = lib.pullLayout(opts.dir);
  const settings = await lib.resolveSettings(layout.settings, { ...(opts.server ? { server: opts.server } : {}), ...(opts.token ? { token: opts.token } : {}) }, ctx.env);
  if (opts.dryRun) return lib.pull({ dir: opts.dir, ...settings, dryRun: true });
  const release = await lib.lockPull(layout.meta);
  try {
    const result = await lib.pull({ dir: opts.dir, ...settings, ...(opts.progress ? { onProgress: progressBar() } : {}) });
    const missing = await access(layout.duckdb).then(() => false, () => true);
    if (!result.changed && !missing) return result;
    const views = await lib.buildViews(layout, result.manifest);
    const { tables } = await lib.readLocalCatalog(layout);
    await lib.writeGuides(layout, tables, settings.server, result.position, lib.adaCommand(), lib.guideFiles(result.manifest));
    return { ...result, views };
  } finally {
    await release();
  }
}

const pullCommand: Command = {
  name: 'pull',
  summary: 'Download your tables from the broker into DIR/server, with DuckDB views and assistant guides',
  usage: 'ada pull [--server URL] [--token T | $ADA_TOKEN] [--dir DIR] [--dry-run] [--json]',
  options: { server: { type: 'string' }, token: { type: 'string' }, dir: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  async run({ values, positionals }, ctx) {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const dir = (values.dir as string | undefined) ?? ctx.env.ADA_DIR ?? '.';
    const dryRun = Boolean(values['dry-run']);
    const result = await runPull({
      dir, dryRun,
      ...(values.server ? { server: values.server as string } : {}),
      ...(values.token ? { token: values.token as string } : {}),
      progress: ctx.isTTY && !values.json && process.stderr.isTTY,
    }, ctx);
    if (values.json) {
      ctx.out(JSON.stringify({
        dryRun, position: result.position, changed: result.changed, downloaded: result.downloaded, kept: result.kept,
        removed: result.removed, bytes: result.bytes, resumedBytes: result.resumedBytes, tables: result.manifest.tables.map((t) => t.name), views: result.views ?? null,
      }, null, 2));
      return 0;
    }
    const tables = result.manifest.tables.length;
    if (dryRun) {
      ctx.out(`would download ${result.downloaded.length} file(s) (${formatBytes(result.bytes)}), keep ${result.kept}, remove ${result.removed.length}${result.removed.length ? `: ${result.removed.join(', ')}` : ''}`);
      for (const p of result.downloaded) ctx.out(`  ${p}`);
      return 0;
    }
    if (!result.changed) {
      ctx.out(`up to date: ${tables} table(s), ${result.kept} file(s) at position ${result.position}${result.views ? ` (DuckDB views rebuilt: ${result.views.length})` : ''}`);
      return 0;
    }
    ctx.out([
      `pulled ${result.downloaded.length} file(s) (${formatBytes(result.bytes)}${result.resumedBytes ? `, ${formatBytes(result.resumedBytes)} resumed` : ''}), kept ${result.kept}, removed ${result.removed.length}`,
      `${tables} table(s) as DuckDB views in ${result.layout.duckdb}`,
      `guides: ${result.layout.dir}/CLAUDE.md, AGENTS.md, .mcp.json`,
    ].join('\n'));
    return 0;
  },
};

/** `ada pull`. */
export const pullCommands: Command[] = [pullCommand];
