/**
 * Event log benchmark: durable appends from 100 concurrent producers against two baselines doing one
 * write + fdatasync per 1,000 events: lines serialised beforehand, and a minimal loop that serialises
 * the same records with JSON.stringify and frames them with length and CRC32 (the fair one), measured in
 * alternating rounds; replay with read$ against readline + JSON.parse.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, count } from 'rxjs';
import { EventLog, EventLogReader } from '../events/index.ts';
import type { NewEvent } from '../events/index.ts';
import { peakRssMb, report, scratch, timed } from './util.ts';
import type { Figures } from './util.ts';

/** Events per measurement: 1M scaled by `BENCH_SCALE`, or exactly `BENCH_EVENTS`; a multiple of the producers. */
const EVENTS = Number(process.env.BENCH_EVENTS ?? Math.max(1, Math.round(Number(process.env.BENCH_SCALE ?? 1) * 10_000)) * 100);
/** Rounds of the alternating append measurements; figures are medians over them. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PRODUCERS = 100;
/** Appends each producer keeps in flight: a producer streams its events, as the bus does. */
const WINDOW = 64;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function eventOf(i: number): NewEvent {
  return {
    type: 'TimerFired', v: 1, source: 'bench',
    data: { timer: `keboola:t${i % 977}`, tables: [`orders_${i % 31}`], scheduledAt: '2026-11-26T06:00:00Z', catchUp: false },
  };
}

/** The first baseline: lines of the same records serialised beforehand (not timed), then written per 1,000; returns their average size. */
async function preserialisedAppend(file: string, at: string): Promise<{ ms: number; bytes: number }> {
  const lines = Array.from({ length: EVENTS }, (_, i) => {
    const { source, ...e } = eventOf(i);
    return Buffer.from(JSON.stringify({ position: i + 1, id: randomUUID(), at, source, ...e }) + '\n');
  });
  const bytes = lines.reduce((s, l) => s + l.length, 0) / lines.length;
  return { ms: await baselineAppend(file, lines), bytes };
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

/**
 * The baseline an event log is measured against: per 1,000 events, `JSON.stringify` of each record
 * (the fields the log stores), a `[u32 length][u32 CRC32]` frame, one `write` and one `fdatasync`.
 */
async function framedAppend(file: string): Promise<number> {
  const fh = await open(file, 'w');
  const idPrefix = randomUUID().slice(0, 24);
  const { ms } = await timed(async () => {
    for (let i = 0; i < EVENTS; i += 1000) {
      const at = new Date().toISOString();
      const n = Math.min(1000, EVENTS - i);
      const payloads: Buffer[] = new Array<Buffer>(n);
      let size = 0;
      for (let j = 0; j < n; j++) {
        const position = i + j + 1;
        const { source, type, v, data } = eventOf(i + j);
        const id = `${idPrefix}${position.toString(16).padStart(12, '0')}`;
        payloads[j] = Buffer.from(JSON.stringify({ position, id, at, source, type, v, data }));
        size += 8 + payloads[j]!.length;
      }
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      for (const p of payloads) {
        buf.writeUInt32LE(p.length, off);
        buf.writeUInt32LE(crc32(p), off + 4);
        p.copy(buf, off + 8);
        off += 8 + p.length;
      }
      await fh.write(buf, 0, off);
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

/** Goals of this benchmark (scale 1): the framed ratio and the absolute rate are the ones that matter. */
export const goals = {
  'event_log.append_events_per_s': { min: 500_000 },
  'event_log.append_framed_ratio': { min: 0.8 },
  // `append_ratio` (against lines serialised before the clock starts) stays a figure without a goal: issue 14
  // calls it a bound no event log reaches and sets the framed ratio as the one to meet.
  'event_log.replay_ratio': { min: 0.75 },
  'event_log.replay_peak_rss_mb': { max: 200 },
};

/** Runs the benchmark and returns its figures. */
export async function run(): Promise<Figures> {
  const dir = await scratch('event-log');
  const at = new Date().toISOString();
  let avgBytes = 0;
  const pre: number[] = [];
  const framed: number[] = [];
  const ours: number[] = [];
  const jsonl = path.join(dir, 'baseline.jsonl');
  const logDir = path.join(dir, 'log');
  const verbose = process.env.BENCH_VERBOSE === '1';
  // Several rounds, the framed baseline and the log swapping order each round, so a load change on the machine hits both alike.
  for (let round = 0; round < ROUNDS; round++) {
    await rm(jsonl, { force: true });
    await rm(logDir, { recursive: true, force: true });
    const { ms, bytes } = await preserialisedAppend(jsonl, at);
    pre.push(ms);
    avgBytes = bytes;
    const framedFile = path.join(dir, 'framed.seg');
    const pair = round % 2 === 0
      ? [await framedAppend(framedFile), await ourAppend(logDir, WINDOW)]
      : [await ourAppend(logDir, WINDOW), await framedAppend(framedFile)].reverse();
    await rm(framedFile, { force: true });
    framed.push(pair[0]!);
    ours.push(pair[1]!);
    if (verbose) process.stderr.write(`round ${round + 1}: pre-serialised ${Math.round(pre.at(-1)!)} ms, framed ${Math.round(pair[0]!)} ms, ours ${Math.round(pair[1]!)} ms\n`);
  }
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
  const rate = (ms: number): number => EVENTS / (ms / 1000);
  const oursRate = median(ours.map(rate));
  const baseRate = median(pre.map(rate));
  const framedRate = median(framed.map(rate));
  const replayRate = EVENTS / (replay.ours / 1000);
  const replayBaseRate = EVENTS / (replay.base / 1000);
  return [
    ['event_log.events', EVENTS],
    ['event_log.avg_event_bytes', avgBytes],
    ['event_log.append_events_per_s', oursRate],
    ['event_log.append_baseline_events_per_s', baseRate],
    ['event_log.append_ratio', median(ours.map((ms, i) => pre[i]! / ms))],
    ['event_log.append_framed_baseline_events_per_s', framedRate],
    ['event_log.append_framed_ratio', median(ours.map((ms, i) => framed[i]! / ms))],
    ['event_log.append_rounds', ROUNDS],
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
