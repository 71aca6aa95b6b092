/** `ada sync`: sync tables into Parquet with progress, a summary, and an exit code. */
import { filter, lastValueFrom, toArray } from 'rxjs';
import type { TableConfig } from '../../config/index.ts';
import type { SyncOutcome, SyncProgress } from '../../pipeline/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { commonOptions } from '../command.ts';
import { loadConfig } from '../../connectors/index.ts';
import { hasCode } from '../../events/index.ts';
import { openBroker } from '../broker.ts';
import { ControlClient } from '../control.ts';
import { dataDirOf } from '../paths.ts';
import type { Broker } from '../broker.ts';
import { formatBytes, formatDuration, formatTable } from '../format.ts';
import { UsageError } from './events.ts';

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
  return `[${p.index}/${p.total}] ${p.table}  ${phase}  ${p.rows.toLocaleString('en-US')} rows  ${formatBytes(p.bytes)}${p.message && p.phase !== 'failed' ? `  ${oneLine(p.message)}` : ''}`;
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
    outcomes.map((o) => [oneLine(o.table), o.status === 'succeeded' ? 'ok' : 'FAILED', o.rows.toLocaleString('en-US'), String(o.files), formatBytes(o.bytes), formatDuration(o.durationMs), o.error ? error(o.error) : '']),
  );
}

/** Syncs tables with an open broker and brings the catalog and sync state up to date. */
export async function runSync(broker: Broker, tables: TableConfig[], ctx: Pick<CommandContext, 'isTTY' | 'err' | 'signal'>, options: { json?: boolean; trigger?: 'manual' | 'startup'; fullRefresh?: boolean } = {}): Promise<SyncOutcome[]> {
  let lastDraw = 0;
  const onProgress = (p: SyncProgress): void => {
    if (options.json) return;
    if (ctx.isTTY) {
      const now = Date.now();
      if (p.phase === 'fetch' && now - lastDraw < 100) return;
      lastDraw = now;
      process.stderr.write(`\r\x1b[2K${progressLine(p)}${p.phase === 'done' || p.phase === 'failed' ? '\n' : ''}`);
    } else if (p.phase === 'done' || p.phase === 'failed') {
      ctx.err(progressLine(p));
    }
  };
  const outcomes = await broker.bus.syncTables(tables, { trigger: options.trigger ?? 'manual', onProgress, signal: ctx.signal, ...(options.fullRefresh ? { fullRefresh: true } : {}) });
  // Every projection but the profiler follows the log, so health reports no lag after a sync from the shell;
  // profiling is the server's work after its runs, or `ada profile`'s.
  for (const [name, p] of Object.entries(broker.projections)) if (name !== 'profiler') await broker.runner.catchUp(p);
  return outcomes;
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

const sync: Command = {
  name: 'sync',
  summary: 'Sync tables from their sources into Parquet (all, or --table NAME...); exit 1 if any failed',
  usage: 'ada sync [--config DIR] [--data DIR] [--table NAME]... [--full-refresh] [--json]',
  options: { ...commonOptions, table: { type: 'string', multiple: true, short: 't' }, 'full-refresh': { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const opts = { configDir: values.config as string | undefined, dataDir: values.data as string | undefined, env: ctx.env, eventSource: 'cli:sync', warn: (m: string) => ctx.err(`warning: ${m}`) };
    const names = (values.table as string[] | undefined) ?? [];
    const started = performance.now();
    let broker: Broker;
    try {
      broker = await openBroker(opts);
    } catch (err) {
      // A running `ada serve` holds the log: let it run the sync, in its queue, after its current run.
      const dataDir = dataDirOf(opts.dataDir, ctx.env);
      const remote = hasCode(err, 'LOCKED') ? await ControlClient.connect(dataDir) : undefined;
      if (!remote) throw err;
      if (values['full-refresh']) throw new UsageError('--full-refresh runs in this process only: stop ada serve for it, or run it while serve is stopped');
      const config = await loadConfig({ configDir: opts.configDir, env: ctx.env });
      const tables = selectTables(config.tables, names);
      if (!values.json) ctx.err(`ada serve is running on this data directory: the sync runs there (after its current run)…`);
      const outcomes = await remote.sync(tables.map((t) => t.name));
      return report(outcomes, tables.length, dataDir, started, Boolean(values.json), ctx);
    }
    try {
      const tables = selectTables(broker.config.tables, names);
      const outcomes = await runSync(broker, tables, ctx, { json: Boolean(values.json), fullRefresh: Boolean(values['full-refresh']) });
      return report(outcomes, tables.length, broker.dataDir, started, Boolean(values.json), ctx);
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
    const broker = await openBroker({ configDir: values.config as string | undefined, dataDir: values.data as string | undefined, env: ctx.env, eventSource: 'cli:replay', warn: (m) => ctx.err(`warning: ${m}`) });
    try {
      const names = (values.projection as string[] | undefined) ?? Object.keys(broker.projections);
      const unknown = names.filter((n) => !broker.projections[n]);
      if (unknown.length) throw new UsageError(`unknown projection ${unknown.join(', ')}; known: ${Object.keys(broker.projections).join(', ')}`);
      const results: Array<{ projection: string; position: number; durationMs: number }> = [];
      const startHead = broker.log.head;
      for (const name of names) {
        const started = performance.now();
        if (!values.json) ctx.err(`rebuilding ${name}…`);
        const head = broker.log.head;
        const position = await broker.runner.rebuild(broker.projections[name]!, (at) => {
          if (ctx.isTTY && !values.json) process.stderr.write(`\r\x1b[2Krebuilding ${name}: ${at.toLocaleString('en-US')} of ${head.toLocaleString('en-US')} events`);
        });
        if (ctx.isTTY && !values.json) process.stderr.write('\r\x1b[2K');
        results.push({ projection: name, position, durationMs: Math.round(performance.now() - started) });
      }
      // Tables whose history could not be rebuilt kept their published files; the replay says which and fails.
      const broken = await lastValueFrom(broker.log.read$(startHead + 1).pipe(
        filter((e) => e.type === 'TableHistoryBroken'), toArray(),
      ));
      const brokenTables = broken.flatMap((e) => (e.type === 'TableHistoryBroken' ? [{ table: e.data.table, position: e.data.position, runId: e.data.runId, blob: e.data.blob ?? null, error: e.data.error }] : []));
      if (values.json) ctx.out(JSON.stringify({ ok: brokenTables.length === 0, projections: results, ...(brokenTables.length ? { brokenTables } : {}) }, null, 2));
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
