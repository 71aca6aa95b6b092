/** `ada events tail|show|stats|verify`: operators' view of the event log. */
import type { Subscription } from 'rxjs';
import { EVENT_TYPES } from '../../events/index.ts';
import type { RecordedEvent } from '../../events/index.ts';
import { BrokerReader } from '../../pipeline/index.ts';
import type { EventReads } from '../../pipeline/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { commonOptions } from '../command.ts';
import { formatBytes, formatTable } from '../format.ts';
import { dataDirOf } from '../paths.ts';

/** How many records `tail` shows without `--from`. */
const DEFAULT_TAIL = 20;

/** The log's views of the data directory: read-only, so they work while `ada serve` holds the log. */
function readerOf(values: Record<string, unknown>, ctx: CommandContext): EventReads {
  return new BrokerReader(dataDirOf(values.data, ctx.env)).events;
}

function positiveInt(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive whole number, got ${JSON.stringify(value)}`);
  return n;
}

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** One line per event: position, time, type, source, key and a short data summary. */
export function formatEventLine(e: RecordedEvent): string {
  const data = JSON.stringify(e.data);
  const summary = data.length > 120 ? `${data.slice(0, 117)}...` : data;
  return `${String(e.position).padStart(8)}  ${e.at}  ${e.type.padEnd(22)} ${e.source}${e.key ? ` key=${e.key}` : ''}  ${summary}`;
}

const tail: Command = {
  name: 'events tail',
  summary: 'Print the newest events of the log (or from a position); -f keeps following',
  usage: 'ada events tail [-f] [--type T]... [--from POS] [-n N] [--json] [--data DIR]',
  options: { ...commonOptions, follow: { type: 'boolean', short: 'f' }, type: { type: 'string', multiple: true }, from: { type: 'string' }, lines: { type: 'string', short: 'n' }, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const types = (values.type as string[] | undefined) ?? [];
    for (const t of types) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new UsageError(`unknown event type ${t}; known types: ${EVENT_TYPES.join(', ')}`);
    }
    const reader = readerOf(values, ctx);
    let from = positiveInt(values.from, '--from');
    if (from === undefined) {
      const n = positiveInt(values.lines, '-n') ?? DEFAULT_TAIL;
      from = await reader.tailStart(n, types);
    }
    const print = (e: RecordedEvent): void => ctx.out(values.json ? JSON.stringify(e) : formatEventLine(e));
    const source$ = reader.read$(from, { types, follow: Boolean(values.follow) });
    await new Promise<void>((resolve, reject) => {
      const sub: Subscription = source$.subscribe({ next: print, error: reject, complete: resolve });
      ctx.signal.addEventListener('abort', () => { sub.unsubscribe(); resolve(); }, { once: true });
    });
    return 0;
  },
};

const show: Command = {
  name: 'events show',
  summary: 'Print one event in full, by position',
  usage: 'ada events show POS [--data DIR]',
  options: { ...commonOptions },
  allowPositionals: true,
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new UsageError('events show takes exactly one position');
    const pos = positiveInt(positionals[0], 'POS')!;
    const reader = readerOf(values, ctx);
    const found = await reader.show(pos);
    if (!found) {
      ctx.err(`no event at position ${pos} (the log's head is ${await reader.head()})`);
      return 1;
    }
    ctx.out(JSON.stringify(found, null, 2));
    return 0;
  },
};

const stats: Command = {
  name: 'events stats',
  summary: 'Records and bytes by event type, segments, first and last time, head position',
  usage: 'ada events stats [--json] [--data DIR]',
  options: { ...commonOptions, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const reader = readerOf(values, ctx);
    const result = await reader.stats();
    const { records, bytes: totalBytes, segments, problem } = result;
    const byType = Object.entries(result.types);
    if (values.json) {
      ctx.out(JSON.stringify(result, null, 2));
      return 0;
    }
    ctx.out(`log:      ${result.dir}`);
    ctx.out(`head:     ${result.head}`);
    ctx.out(`records:  ${records}  (${formatBytes(totalBytes)} in ${segments.length} segment${segments.length === 1 ? '' : 's'})`);
    ctx.out(`first:    ${result.firstAt ?? '-'}`);
    ctx.out(`last:     ${result.lastAt ?? '-'}`);
    if (byType.length > 0) {
      ctx.out('');
      ctx.out(formatTable(['type', 'records', 'bytes'], byType.map(([t, s]) => [t, String(s.records), formatBytes(s.bytes)])));
    }
    if (problem) ctx.err(`warning: ${problem.torn ? 'torn tail' : 'corruption'} at ${problem.segment} offset ${problem.offset}: ${problem.reason} (run \`ada events verify\`)`);
    return 0;
  },
};

const verify: Command = {
  name: 'events verify',
  summary: 'Check every record of the log (CRC, positions, JSON); exit code 1 on corruption',
  usage: 'ada events verify [--json] [--data DIR]',
  options: { ...commonOptions, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const reader = readerOf(values, ctx);
    const result = await reader.verify();
    const { problem, tornTail: torn, records } = result;
    if (values.json) {
      ctx.out(JSON.stringify(result, null, 2));
    } else if (problem) {
      ctx.err(`CORRUPT at position ${problem.position}: segment ${problem.segment}, byte offset ${problem.offset}: ${problem.reason}`);
    } else {
      ctx.out(`ok: ${records} records in ${result.segments} segment(s), head ${result.head}`);
      if (torn) ctx.out(`note: torn tail after position ${result.head} in ${torn.segment} at offset ${torn.offset} (${torn.reason}); the next writer truncates it and keeps the cut bytes in events/quarantine/`);
    }
    return problem ? 1 : 0;
  },
};

/** The `ada events …` commands. */
export const eventsCommands: Command[] = [tail, show, stats, verify];
