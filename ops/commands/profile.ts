/** `ada profile`: profile published tables on demand, with progress, a summary, and an exit code. */
import { catalogTables } from '../../config/index.ts';
import type { TableConfig } from '../../config/index.ts';
import { BrokerReader, PROFILE_NOT_PUBLISHED } from '../../pipeline/index.ts';
import type { ProfileRequest, ProfileResult } from '../../pipeline/index.ts';
import { profilesFile } from '../../pipeline/index.ts';
import type { ProfileOutcome, ProfileProgress, ProfilerOptions } from '../../pipeline/index.ts';
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { connectBroker } from '../connect.ts';
import type { Connection } from '../connect.ts';
import { progressOf } from '../progress.ts';
import { formatDuration, formatTable } from '../format.ts';
import { UsageError } from '../usage-error.ts';

export { PROFILE_NOT_PUBLISHED };

/** Refuses table names that are not configured (a usage mistake, exit 2). */
export function checkTableNames(configured: readonly TableConfig[], names: string[]): void {
  const unknown = names.filter((n) => !configured.some((t) => t.name === n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown table${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; configured: ${configured.map((t) => t.name).join(', ') || '(none)'}`);
  }
}

/** Profiles with the broker opened here, or here with the outcomes recorded through the running server. */
function profileWith(broker: Connection, request: ProfileRequest): Promise<ProfileResult> {
  if (broker.local) return broker.local.profile(request);
  const remote = broker.api;
  return new BrokerReader(broker.dataDir).profile(broker.config, async (e) => (await remote.append([e]))[0], request);
}

/** A one-line progress display of a table. */
export function profileProgressLine(p: ProfileProgress): string {
  const o = p.outcome;
  const head = `[${p.index}/${p.total}] ${p.table}`;
  if (p.phase === 'start' || !o) return `${head}  profiling…`;
  if (o.status === 'profiled') {
    return `${head}  done  ${(o.rows ?? 0).toLocaleString('en-US')} rows${o.sampled ? ` (sample of ${(o.sampleSize ?? 0).toLocaleString('en-US')})` : ''}  ${o.columns} columns  ${o.alerts} alerts  ${formatDuration(o.durationMs)}`;
  }
  return `${head}  ${o.status === 'failed' ? 'FAILED' : 'skipped'}  [${o.error?.code}] ${o.error?.message ?? ''}`;
}

/** The summary table printed after profiling. */
export function profileSummary(outcomes: ProfileOutcome[]): string {
  return formatTable(
    ['table', 'status', 'rows', 'columns', 'alerts', 'time', 'stale', 'error'],
    outcomes.map((o) => [
      o.table,
      o.status === 'profiled' ? (o.sampled ? 'ok (sampled)' : 'ok') : o.status === 'failed' ? 'FAILED' : 'skipped',
      o.rows === undefined ? '' : o.rows.toLocaleString('en-US'),
      o.columns === undefined ? '' : String(o.columns),
      o.alerts === undefined ? '' : String(o.alerts),
      formatDuration(o.durationMs),
      o.stale ? 'previous profile kept, stale' : '',
      o.error ? `[${o.error.code}] ${o.error.message}`.slice(0, 200) : '',
    ]),
  );
}

function positiveNumber(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} expects a number of rows, got ${JSON.stringify(value)}`);
  return n;
}

const profile: Command = {
  name: 'profile',
  summary: 'Profile published tables (all, or --table NAME...) into metadata/profiles.json; exit 1 if any failed',
  usage: 'ada profile [--config DIR] [--data DIR] [--table NAME]... [--json] [--sample-threshold ROWS] [--memory-limit SIZE]',
  options: {
    ...commonOptions,
    table: { type: 'string', multiple: true, short: 't' },
    json: { type: 'boolean' },
    'sample-threshold': { type: 'string' },
    'memory-limit': { type: 'string' },
  },
  async run({ values }, ctx) {
    const options: ProfilerOptions = {};
    const threshold = positiveNumber('--sample-threshold', values['sample-threshold']);
    if (threshold !== undefined) options.sampleThreshold = threshold;
    if (typeof values['memory-limit'] === 'string') options.memoryLimit = values['memory-limit'];
    // With `ada serve` running, events go through its control socket; profiling itself runs here.
    const broker = await connectBroker(values, ctx, 'cli:profile');
    try {
      const names = (values.table as string[] | undefined) ?? [];
      checkTableNames(catalogTables(broker.config), names);
      const started = performance.now();
      const progress = progressOf(ctx, { json: Boolean(values.json) });
      const onProgress = (p: ProfileProgress): void => {
        if (p.phase === 'start') progress.update({ done: p.index - 1, total: p.total, text: profileProgressLine(p) }, true);
        else progress.line(profileProgressLine(p));
      };
      const { outcomes, wanted } = await profileWith(broker, { tables: names, options, onProgress, signal: ctx.signal });
      const ok = outcomes.length === wanted && outcomes.every((o) => o.status === 'profiled');
      if (values.json) {
        ctx.out(JSON.stringify({ ok, dataDir: broker.dataDir, profiles: profilesFile(broker.dataDir), durationMs: Math.round(performance.now() - started), tables: outcomes }, null, 2));
      } else if (outcomes.length === 0) {
        ctx.out('no published tables to profile; run `ada sync` first');
      } else {
        ctx.out(profileSummary(outcomes));
        const failed = outcomes.filter((o) => o.status !== 'profiled').length;
        ctx.out(`\n${outcomes.length - failed} of ${outcomes.length} table(s) profiled into ${profilesFile(broker.dataDir)} in ${formatDuration(performance.now() - started)}${failed ? `; ${failed} failed (see \`ada events tail --type TableProfileFailed\`)` : ''}`);
      }
      return ok ? 0 : 1;
    } finally {
      await broker.close();
    }
  },
};

/** `ada profile`. */
export const profileCommands: Command[] = [profile];
