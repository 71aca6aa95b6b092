/** `ada events tail|show|stats|verify`: operators' view of the event log. */
import path from 'node:path';
import type { Subscription } from 'rxjs';
import { BlobStore, EVENT_TYPES } from '../../events/index.ts';
import type { RecordedEvent } from '../../events/index.ts';
import { BrokerReader } from '../../pipeline/index.ts';
import type { EventReads } from '../../pipeline/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { commonOptions } from '../command.ts';
import { formatBytes, formatTable } from '../format.ts';
import { dataDirOf } from '../paths.ts';
import { OpsErrorCode } from '../errors.ts';
import { UsageError } from '../usage-error.ts';

// Where the commands have always found it.
export { UsageError };

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

/** A referenced blob that is missing or does not hash to its name. */
interface BadBlob { position: number; type: string; table?: string; runId?: string; sha256: string; code: string; message: string }

/** Checks every blob the log references (exists, sha256 matches), each blob once; lists every bad reference. */
async function verifyBlobs(reader: EventReads, blobsDir: string): Promise<{ checked: number; bad: BadBlob[] }> {
  const refs: Array<{ position: number; type: string; table?: string; runId?: string; sha256: string }> = [];
  await new Promise<void>((resolve, reject) => {
    reader.read$(1).subscribe({
      next: (e) => {
        if (e.type === 'TableChunkStaged') refs.push({ position: e.position, type: e.type, table: e.data.table, runId: e.data.runId, sha256: e.data.blob.sha256 });
      },
      error: reject,
      complete: resolve,
    });
  });
  const store = BlobStore.reader(blobsDir);
  const results = new Map<string, { code: string; message: string } | null>();
  const bad: BadBlob[] = [];
  for (const ref of refs) {
    if (!results.has(ref.sha256)) {
      try {
        await store.verifiedPath(ref.sha256);
        results.set(ref.sha256, null);
      } catch (err) {
        const e = err as { code?: string; message?: string };
        results.set(ref.sha256, { code: e.code ?? OpsErrorCode.blobUnreadable, message: e.message ?? String(err) });
      }
    }
    const problem = results.get(ref.sha256);
    if (problem) bad.push({ ...ref, ...problem });
  }
  return { checked: results.size, bad };
}

const verify: Command = {
  name: 'events verify',
  summary: 'Check every record of the log (CRC, positions, JSON), and with --blobs every referenced blob; exit code 1 on corruption',
  usage: 'ada events verify [--blobs] [--json] [--data DIR]',
  options: { ...commonOptions, blobs: { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const reader = readerOf(values, ctx);
    const result = await reader.verify();
    const { problem, tornTail: torn, records } = result;
    const blobs = values.blobs && !problem ? await verifyBlobs(reader, path.join(dataDirOf(values.data, ctx.env), 'blobs')) : undefined;
    const ok = !problem && (blobs?.bad.length ?? 0) === 0;
    if (values.json) {
      ctx.out(JSON.stringify({ ...result, ok, ...(blobs ? { blobs } : {}) }, null, 2));
      return ok ? 0 : 1;
    }
    if (problem) {
      ctx.err(`CORRUPT at position ${problem.position}: segment ${problem.segment}, byte offset ${problem.offset}: ${problem.reason}`);
      return 1;
    }
    ctx.out(`ok: ${records} records in ${result.segments} segment(s), head ${result.head}`);
    if (torn) ctx.out(`note: torn tail after position ${result.head} in ${torn.segment} at offset ${torn.offset} (${torn.reason}); the next writer truncates it and keeps the cut bytes in events/quarantine/`);
    if (blobs) {
      for (const b of blobs.bad) ctx.err(`${b.code} at position ${b.position} (${b.type}${b.table ? `, table ${b.table}` : ''}${b.runId ? `, run ${b.runId}` : ''}): blob ${b.sha256}: ${b.message}`);
      const n = blobs.bad.length;
      if (n === 0) ctx.out(`ok: ${blobs.checked} referenced blob(s) exist and match their sha256`);
      else ctx.err(`${n} bad blob reference(s) among ${blobs.checked} blob(s); a table whose history they break recovers with \`ada sync --table NAME --full-refresh\` (docs/events.md)`);
    }
    return ok ? 0 : 1;
  },
};

/** The `ada events …` commands. */
export const eventsCommands: Command[] = [tail, show, stats, verify];
