/**
 * Event log benchmark: durable appends from 100 concurrent producers against one writer doing
 * write + fdatasync per 1,000 pre-serialised lines; replay with read$ against readline + JSON.parse.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, count } from 'rxjs';
import { EventLog, EventLogReader } from '../events/index.ts';
import type { NewEvent } from '../events/index.ts';
import { peakRssMb, report, scratch, timed } from './util.ts';
import type { Figures } from './util.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PRODUCERS = 100;
/** Appends each producer keeps in flight: a producer streams its events, as the bus does. */
const WINDOW = 64;

function eventOf(i: number): NewEvent {
  return {
    type: 'TimerFired', v: 1, source: 'bench',
    data: { timer: `keboola:t${i % 977}`, tables: [`orders_${i % 31}`], scheduledAt: '2026-11-26T06:00:00Z', catchUp: false },
  };
}

async function baselineAppend(file: string, lines: Buffer[]): Promise<number> {
  const fh = await open(file, 'w');
  const { ms } = await timed(async () => {
    for (let i = 0; i < lines.length; i += 1000) {
      await fh.write(Buffer.concat(lines.slice(i, i + 1000)));
      await fh.datasync();
    }
  });
  await fh.close();
  return ms;
}

async function ourAppend(dir: string, window: number): Promise<number> {
  const log = await EventLog.open(dir, { logger: { warn: () => undefined } });
  const per = EVENTS / PRODUCERS;
  const { ms } = await timed(() => Promise.all(Array.from({ length: PRODUCERS }, async (_, p) => {
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const done = (): void => {
      inFlight--;
      wake?.();
    };
    for (let i = 0; i < per; i++) {
      inFlight++;
      log.append(eventOf(p * per + i)).then(done, (err: unknown) => { throw err; });
      if (inFlight >= window) await new Promise<void>((r) => (wake = r));
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  })));
  await log.close();
  return ms;
}

async function replayChild(dir: string, jsonl: string): Promise<void> {
  const reader = new EventLogReader(dir);
  const ours = await timed(() => lastValueFrom(reader.read$(0).pipe(count())));
  const rssOurs = peakRssMb();
  const base = await timed(async () => {
    let n = 0;
    const rl = createInterface({ input: createReadStream(jsonl), crlfDelay: Infinity });
    for await (const line of rl) if (JSON.parse(line)) n++;
    return n;
  });
  process.stdout.write(JSON.stringify({ ours: ours.ms, oursCount: ours.result, base: base.ms, baseCount: base.result, rssOurs }) + '\n');
}

/** Runs the benchmark and returns its figures. */
export async function run(): Promise<Figures> {
  const dir = await scratch('event-log');
  // Pre-serialised lines of the same records the log stores, for the baselines.
  const at = new Date().toISOString();
  const lines = Array.from({ length: EVENTS }, (_, i) => {
    const { source, ...e } = eventOf(i);
    return Buffer.from(JSON.stringify({ position: i + 1, id: randomUUID(), at, source, ...e }) + '\n');
  });
  const avgBytes = lines.reduce((s, l) => s + l.length, 0) / lines.length;
  const jsonl = path.join(dir, 'baseline.jsonl');
  const baseMs = await baselineAppend(jsonl, lines);
  lines.length = 0;
  const oursMs = await ourAppend(path.join(dir, 'log'), WINDOW);
  const seqEvents = Math.min(EVENTS, 200_000);
  const seqDir = path.join(dir, 'log-seq');
  const seqLog = await EventLog.open(seqDir, { logger: { warn: () => undefined } });
  const seq = await timed(() => Promise.all(Array.from({ length: PRODUCERS }, async (_, p) => {
    for (let i = 0; i < seqEvents / PRODUCERS; i++) await seqLog.append(eventOf(p + i));
  })));
  await seqLog.close();

  const child = await new Promise<string>((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--replay', path.join(dir, 'log'), jsonl], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`replay child exited with ${code}`))));
  });
  const replay = JSON.parse(child.trim().split('\n').pop()!) as { ours: number; oursCount: number; base: number; baseCount: number; rssOurs: number };
  if (replay.oursCount !== EVENTS || replay.baseCount !== EVENTS) throw new Error(`replay read ${replay.oursCount}/${replay.baseCount} of ${EVENTS} events`);
  const oursRate = EVENTS / (oursMs / 1000);
  const baseRate = EVENTS / (baseMs / 1000);
  const replayRate = EVENTS / (replay.ours / 1000);
  const replayBaseRate = EVENTS / (replay.base / 1000);
  return [
    ['event_log.events', EVENTS],
    ['event_log.avg_event_bytes', avgBytes],
    ['event_log.append_events_per_s', oursRate],
    ['event_log.append_baseline_events_per_s', baseRate],
    ['event_log.append_ratio', oursRate / baseRate],
    ['event_log.append_sequential_events_per_s', seqEvents / (seq.ms / 1000)],
    ['event_log.replay_events_per_s', replayRate],
    ['event_log.replay_baseline_events_per_s', replayBaseRate],
    ['event_log.replay_ratio', replayRate / replayBaseRate],
    ['event_log.replay_peak_rss_mb', replay.rssOurs],
  ];
}

if (process.argv[2] === '--replay') {
  await replayChild(process.argv[3]!, process.argv[4]!);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
