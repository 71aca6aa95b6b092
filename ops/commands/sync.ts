/**
 * `ada sync` and `ada replay`: sync tables into Parquet, or rebuild projections, with progress, a summary and an exit
 * code. This module loads nothing heavy: with `ada serve` running on the data directory, `ada sync` only asks it
 * through the control socket (ops/control/sync-client.ts); the broker (pipeline, DuckDB, connectors) is imported
 * when the command runs in this process.
 */
import type { TableConfig } from '../../config/index.ts';
import type { SyncOutcome, SyncProgress } from '../../pipeline/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { commonOptions } from '../command.ts';
import { syncThroughServer } from '../control/sync-client.ts';
import { dataDirOf } from '../paths.ts';
import { progressOf } from '../progress.ts';
import { formatBytes, formatCount, formatDuration, formatTable } from '../format.ts';
import { UsageError } from '../usage-error.ts';

/** Picks the tables named on the command line (all when none), refusing unknown names. */
export function selectTables(all: readonly TableConfig[], names: string[]): TableConfig[] {
  if (names.length === 0) return [...all];
  const unknown = names.filter((n) => !all.some((t) => t.name === n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown table${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; configured: ${all.map((t) => t.name).join(', ') || '(none)'}`);
  }
  return all.filter((t) => names.includes(t.name));
}

/** A one-line progress display, redrawn in place on a terminal. */
export function progressLine(p: SyncProgress): string {
  const phase = { start: 'starting', fetch: 'fetching', publish: 'publishing', done: 'done', failed: 'FAILED' }[p.phase];
  return `[${p.index}/${p.total}] ${p.table}  ${phase}  ${formatCount(p.rows)} rows  ${formatBytes(p.bytes)}${p.message && p.phase !== 'failed' ? `  ${oneLine(p.message)}` : ''}`;
}

/** Longest error text in a summary row; the full message is in the SyncFailed event. */
const MAX_SUMMARY_ERROR = 200;

/** Text on one line: every run of whitespace holding a line break (or a tab) becomes one space, so a table row stays one row. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\t\v\f\u2028\u2029]\s*/g, ' ').trim();
}

/** The summary table printed after a sync: one line per table, whatever its error says. */
export function summaryTable(outcomes: SyncOutcome[]): string {
  const error = (e: NonNullable<SyncOutcome['error']>): string => {
    const text = oneLine(`[${e.code}] ${e.message}`);
    return text.length > MAX_SUMMARY_ERROR ? `${text.slice(0, MAX_SUMMARY_ERROR - 1)}…` : text;
  };
  return formatTable(
    ['table', 'status', 'rows', 'files', 'size', 'time', 'error'],
    outcomes.map((o) => [oneLine(o.table), o.status === 'succeeded' ? 'ok' : 'FAILED', formatCount(o.rows), String(o.files), formatBytes(o.bytes), formatDuration(o.durationMs), o.error ? error(o.error) : '']),
  );
}

/** Shows a sync's progress: a bar per table on a terminal, the line of each finished table otherwise. */
export function syncProgress(ctx: Pick<CommandContext, 'isTTY' | 'err'>, json: boolean): (p: SyncProgress) => void {
  if (json) return () => undefined;
  const progress = progressOf(ctx, { json });
  return (p) => {
    if (p.phase === 'done' || p.phase === 'failed') progress.line(progressLine(p));
    else progress.update({ done: p.index - 1, total: p.total, text: progressLine(p) }, p.phase !== 'fetch');
  };
}

/** Prints the outcome of a sync and returns the exit code. */
function report(outcomes: SyncOutcome[], wanted: number, dataDir: string, started: number, json: boolean, ctx: Pick<CommandContext, 'out'>): number {
  const ok = outcomes.every((o) => o.status === 'succeeded') && outcomes.length === wanted;
  if (json) {
    ctx.out(JSON.stringify({ ok, dataDir, durationMs: Math.round(performance.now() - started), tables: outcomes }, null, 2));
  } else {
    ctx.out(summaryTable(outcomes));
    const failed = outcomes.filter((o) => o.status === 'failed').length;
    ctx.out(`\n${outcomes.length - failed} of ${wanted} table(s) synced into ${dataDir} in ${formatDuration(performance.now() - started)}${failed ? `; ${failed} failed (see \`ada events tail --type SyncFailed\`)` : ''}`);
  }
  return ok ? 0 : 1;
}

/** Said on stderr when the sync runs in `ada serve`. */
const SERVED_LINE = 'ada serve is running on this data directory: the sync runs there (after its current run)…';

/**
 * Runs the sync in the `ada serve` that holds the data directory's log, through its control socket, with its
 * progress streamed back; the exit code, or undefined when no server listens (the sync then runs in this process).
 * The server's configuration names the tables: an unknown one is a usage error, as in this process.
 */
async function syncServed(values: Record<string, unknown>, ctx: CommandContext, json: boolean, started: number): Promise<number | undefined> {
  const dataDir = dataDirOf(values.data, ctx.env);
  const names = [...new Set((values.table as string[] | undefined) ?? [])];
  let wanted = names.length;
  const progress = syncProgress(ctx, json);
  let outcomes: SyncOutcome[] | undefined;
  try {
    outcomes = await syncThroughServer(dataDir, names, {
      source: 'cli:sync',
      signal: ctx.signal,
      onAccepted: () => {
        if (!json) ctx.err(SERVED_LINE);
      },
      onProgress: (p) => {
        wanted = Math.max(wanted, p.total);
        progress(p);
      },
    });
  } catch (err) {
    const { ErrorCode } = await import('../../events/index.ts');
    if ((err as { code?: unknown }).code === ErrorCode.badArgument) throw new UsageError((err as Error).message);
    throw err;
  }
  return outcomes && report(outcomes, Math.max(wanted, outcomes.length), dataDir, started, json, ctx);
}

const sync: Command = {
  name: 'sync',
  summary: 'Sync tables from their sources into Parquet (all, or --table NAME...); exit 1 if any failed',
  usage: 'ada sync [--config DIR] [--data DIR] [--table NAME]... [--full-refresh] [--json]',
  options: { ...commonOptions, table: { type: 'string', multiple: true, short: 't' }, 'full-refresh': { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const json = Boolean(values.json);
    const started = performance.now();
    // --full-refresh runs in this process only: it goes the long way, which refuses it when a server holds the log.
    if (!values['full-refresh']) {
      const served = await syncServed(values, ctx, json, started);
      if (served !== undefined) return served;
    }
    const { connectBroker } = await import('../connect.ts');
    const broker = await connectBroker(values, ctx, 'cli:sync');
    try {
      const tables = selectTables(broker.config.tables, (values.table as string[] | undefined) ?? []);
      if (broker.remote && values['full-refresh']) throw new UsageError('--full-refresh runs in this process only: stop ada serve for it, or run it while serve is stopped');
      // A server that started listening since syncServed looked: the sync runs in its queue, without progress.
      if (broker.remote && !json) ctx.err(SERVED_LINE);
      const outcomes = await broker.api.sync({ tables: tables.map((t) => t.name), trigger: 'manual', onProgress: syncProgress(ctx, json), ...(values['full-refresh'] ? { fullRefresh: true } : {}) });
      return report(outcomes, tables.length, broker.dataDir, started, json, ctx);
    } finally {
      await broker.close();
    }
  },
};

const replay: Command = {
  name: 'replay',
  summary: 'Rebuild a projection\'s outputs from the event log (all projections by default); Parquet is rebuilt aside and swapped in table by table',
  usage: 'ada replay [--projection NAME]... [--config DIR] [--data DIR] [--json]',
  options: { ...commonOptions, projection: { type: 'string', multiple: true, short: 'p' }, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const { openBroker } = await import('../connect.ts');
    const broker = await openBroker(values, ctx, 'cli:replay');
    try {
      const known = broker.projectionNames();
      const names = (values.projection as string[] | undefined) ?? known;
      const unknown = names.filter((n) => !known.includes(n));
      if (unknown.length) throw new UsageError(`unknown projection ${unknown.join(', ')}; known: ${known.join(', ')}`);
      const progress = progressOf(ctx, { json: Boolean(values.json) });
      let current = '';
      const results = await broker.replay(names, (name, at, head) => {
        if (name !== current) {
          current = name;
          progress.line(`rebuilding ${name}…`);
        }
        progress.update({ done: at, total: head, text: `rebuilding ${name}: ${formatCount(at)} of ${formatCount(head)} events` });
      });
      progress.end();
      // Tables whose history could not be rebuilt kept their published files; the replay says which and fails.
      const brokenTables = results.flatMap((r) => r.brokenTables ?? []);
      if (values.json) ctx.out(JSON.stringify({ ok: brokenTables.length === 0, projections: results.map(({ brokenTables: _b, ...r }) => r), ...(brokenTables.length ? { brokenTables } : {}) }, null, 2));
      else {
        ctx.out(formatTable(['projection', 'position', 'time'], results.map((r) => [r.projection, String(r.position), formatDuration(r.durationMs)])));
        for (const b of brokenTables) ctx.err(`table ${b.table}: history broken at event ${b.position}${b.blob ? ` (blob ${b.blob})` : ''}: [${b.error.code}] ${b.error.message}; its published files were kept; \`ada sync --table ${b.table} --full-refresh\` starts its history anew`);
      }
      return brokenTables.length === 0 ? 0 : 1;
    } finally {
      await broker.close();
    }
  },
};

/** `ada sync` and `ada replay`. */
export const syncCommands: Command[] = [sync, replay];
