/** `ada profile`: profile published tables on demand, with progress, a summary, and an exit code. */
import path from 'node:path';
import type { TableConfig } from '../../config/index.ts';
import { CheckpointStore, EventLogReader } from '../../events/index.ts';
import { foldProfilerState, profileTables, profilesFile } from '../../pipeline/index.ts';
import type { ProfileOutcome, ProfileProgress, ProfilerOptions, TablePublish } from '../../pipeline/index.ts';
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { openEventBroker } from '../broker.ts';
import { eventsDirOf } from '../paths.ts';
import { formatDuration, formatTable } from '../format.ts';
import { UsageError } from './events.ts';

/** Code of a named table that has no publish to profile yet. */
export const PROFILE_NOT_PUBLISHED = 'PROFILE_NOT_PUBLISHED';

/** The tables to profile: the named ones (all configured tables with a publish when none), and the named ones never published. */
export function selectProfileTargets(configured: readonly TableConfig[], published: Readonly<Record<string, TablePublish>>, names: string[]): { targets: TablePublish[]; unpublished: string[] } {
  const unknown = names.filter((n) => !configured.some((t) => t.name === n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown table${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; configured: ${configured.map((t) => t.name).join(', ') || '(none)'}`);
  }
  const wanted = names.length > 0 ? configured.filter((t) => names.includes(t.name)) : configured;
  return {
    targets: wanted.map((t) => published[t.name]).filter((p): p is TablePublish => p !== undefined),
    unpublished: names.length > 0 ? wanted.filter((t) => !published[t.name]).map((t) => t.name) : [],
  };
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
    const broker = await openEventBroker({ configDir: values.config as string | undefined, dataDir: values.data as string | undefined, env: ctx.env, eventSource: 'cli:profile', warn: (m) => ctx.err(`warning: ${m}`) });
    try {
      const reader = new EventLogReader(eventsDirOf(broker.dataDir));
      const state = await foldProfilerState(reader, new CheckpointStore(path.join(broker.dataDir, 'metadata', 'checkpoints'), { readOnly: true }));
      const { targets, unpublished } = selectProfileTargets(broker.config.tables, state.published, (values.table as string[] | undefined) ?? []);
      const started = performance.now();
      const onProgress = (p: ProfileProgress): void => {
        if (values.json) return;
        if (ctx.isTTY) process.stderr.write(`\r\x1b[2K${profileProgressLine(p)}${p.phase === 'start' ? '' : '\n'}`);
        else if (p.phase !== 'start') ctx.err(profileProgressLine(p));
      };
      const outcomes = await profileTables({
        dataDir: broker.dataDir, config: broker.config, tables: targets, append: (e) => broker.log.append(e), options, onProgress, signal: ctx.signal,
      });
      for (const name of unpublished) {
        outcomes.push({ table: name, contentHash: '', status: 'failed', durationMs: 0, error: { code: PROFILE_NOT_PUBLISHED, message: `table ${name} has not been published yet; run \`ada sync --table ${name}\` first` } });
      }
      const ok = outcomes.length === targets.length + unpublished.length && outcomes.every((o) => o.status === 'profiled');
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
