/**
 * Notification fan-out benchmark: 1,000 websocket clients (in a child process, so client and
 * server each get their own event loop) connected to the gateway on 127.0.0.1, and notifications
 * appended to a real event log: first at a steady rate (latency from just before `append` to the
 * client's `message` event, fsync included), then all at once (throughput). Lost = notifications a
 * client that stayed connected never received.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import WebSocket from 'ws';
import { EventLog } from '../events/index.ts';
import type { NewEvent } from '../events/index.ts';
import { DEFAULT_GATEWAY_OPTIONS, notificationGateway } from '../portal/notifications/index.ts';
import { scratch } from './util.ts';
import type { Figures } from './util.ts';
import type { Goals } from './run.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 1_000);
const NOTIFICATIONS = Math.max(100, Math.round(1_000 * SCALE));
/** Notifications per second of the steady phase: a busy broker publishes a few per second; 100/s is 100,000 deliveries/s. */
const RATE = Number(process.env.BENCH_FANOUT_RATE ?? 100);
/**
 * Clients connecting at once: all come from 127.0.0.1, so they stay under the gateway's cap on sockets
 * one address may have waiting to authenticate (extras are closed with 4029).
 */
const CONNECT_CONCURRENCY = Math.min(40, DEFAULT_GATEWAY_OPTIONS.maxPendingAuthPerAddress);

/** Goals of this benchmark. */
export const goals: Goals = {
  'fanout.steady_p99_latency_ms': { max: 100 },
  'fanout.lost': { max: 0 },
  'fanout.clients_dropped': { max: 0 },
  'fanout.burst_messages_per_s': { min: 100_000 },
};

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes of one machine. */
const now = (): number => performance.timeOrigin + performance.now();

function notification(phase: string, i: number): NewEvent {
  return { type: 'NotificationDispatched', v: 1, source: 'bench', data: { id: `${phase}-${i}`, title: `${phase} ${i}`, message: 'bench', level: 'info', by: 'bench' } };
}

/** When each notification of a phase was appended (just before `append`) and reached the gateway (durable, about to fan out). */
interface PhaseTimes {
  sentAt: number[];
  emittedAt: number[];
}

interface Latencies {
  p50: number;
  p99: number;
  max: number;
}

interface PhaseReport {
  received: number;
  /** From just before `append` (fsync included) to the client's `message` event. */
  endToEnd: Latencies;
  /** From the gateway getting the durable event to the client's `message` event. */
  fanOut: Latencies;
  /** Seconds from the first append to the last delivery. */
  seconds: number;
}

interface ClientReport {
  phases: Record<string, PhaseReport>;
  connected: number;
  lost: number;
}

function latencies(samples: Float64Array): Latencies {
  const sorted = samples.sort();
  const at = (p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { p50: at(50), p99: at(99), max: sorted[sorted.length - 1] ?? NaN };
}

/** The child: opens the clients, records when each notification reached each client, and reports on request (stdin). */
async function clientsChild(url: string, clients: number, perPhase: number): Promise<void> {
  const sockets: WebSocket[] = [];
  /** Receipt time per phase, indexed notification * clients + client; 0 = not received. */
  const receipts = new Map<string, Float64Array>();
  const received = new Uint32Array(clients);
  const receiptsOf = (phase: string): Float64Array => {
    let r = receipts.get(phase);
    if (!r) receipts.set(phase, (r = new Float64Array(perPhase * clients)));
    return r;
  };
  const open = async (i: number): Promise<void> => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets[i] = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      // A socket the gateway refuses is closed before any message: fail instead of waiting forever.
      ws.once('close', (code, reason) => reject(new Error(`client ${i}: closed with ${code} ${String(reason)}`)));
      ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', token: `bench-${i}` })));
      ws.once('message', (data) => {
        const reply = JSON.parse(String(data)) as { type: string };
        if (reply.type !== 'auth_ok') reject(new Error(`client ${i}: ${String(data)}`));
        else resolve();
      });
    });
    ws.on('message', (data) => {
      const at = now();
      const n = JSON.parse(String(data)) as { title: string };
      const space = n.title.indexOf(' ');
      receiptsOf(n.title.slice(0, space))[Number(n.title.slice(space + 1)) * clients + i] = at;
      received[i]!++;
    });
    ws.on('error', () => undefined);
  };
  for (let i = 0; i < clients; i += CONNECT_CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, clients - i) }, (_, j) => open(i + j)));
  }
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const space = line.indexOf(' ');
    const cmd = line.slice(0, space);
    const arg = line.slice(space + 1);
    if (cmd === 'wait') {
      // Answers once every open client has `arg` notifications in total, or after 30 s.
      const want = Number(arg);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && sockets.some((ws, i) => ws.readyState === WebSocket.OPEN && received[i]! < want)) await new Promise((r) => setTimeout(r, 5));
      process.stdout.write('done\n');
    } else if (cmd === 'report') {
      const times = JSON.parse(arg) as Record<string, PhaseTimes>;
      const report: ClientReport = { phases: {}, connected: 0, lost: 0 };
      const open = sockets.map((ws) => ws.readyState === WebSocket.OPEN);
      report.connected = open.filter(Boolean).length;
      for (const [phase, { sentAt, emittedAt }] of Object.entries(times)) {
        const r = receiptsOf(phase);
        const endToEnd = new Float64Array(r.length);
        const fanOut = new Float64Array(r.length);
        let n = 0;
        let last = 0;
        for (let k = 0; k < perPhase; k++) {
          for (let i = 0; i < clients; i++) {
            const at = r[k * clients + i]!;
            if (at === 0) {
              if (open[i]) report.lost++;
              continue;
            }
            endToEnd[n] = at - sentAt[k]!;
            fanOut[n] = at - emittedAt[k]!;
            n++;
            if (at > last) last = at;
          }
        }
        report.phases[phase] = { received: n, endToEnd: latencies(endToEnd.subarray(0, n)), fanOut: latencies(fanOut.subarray(0, n)), seconds: (last - Math.min(...sentAt)) / 1000 };
      }
      for (const ws of sockets) ws.terminate();
      process.stdout.write(JSON.stringify(report) + '\n');
      return;
    }
  }
}

/** Runs the benchmark and returns its figures. */
export async function run(): Promise<Figures> {
  const dir = await scratch('fanout');
  const log = await EventLog.open(path.join(dir, 'events'), { logger: { warn: () => undefined } });
  const times: Record<string, PhaseTimes> = { steady: { sentAt: [], emittedAt: [] }, burst: { sentAt: [], emittedAt: [] } };
  // Subscribed before the gateway, so it sees each live event just before the gateway fans it out.
  const probe = log.follow$(log.head + 1).subscribe((e) => {
    if (e.type !== 'NotificationDispatched') return;
    const [phase, i] = e.data.title.split(' ');
    times[phase!]!.emittedAt[Number(i)] = now();
  });
  const gateway = notificationGateway({
    log,
    config: { tables: [] },
    authenticate: ({ token }) => (token?.startsWith('bench-') ? { name: `user${token.slice(6)}`, role: 'analyst' } : undefined),
  });
  const app = Fastify({ logger: false });
  await app.register(gateway);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `${address.replace('http', 'ws')}/ws/notifications`;

  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--clients', url, String(CLIENTS), String(NOTIFICATIONS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`client process exited with ${code}`)))));
  exited.catch(() => undefined);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const r = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: '' }))]);
    if (r.done) throw new Error('the client process ended early');
    return r.value as string;
  };
  try {
    const connectStarted = performance.now();
    if ((await nextLine()) !== 'ready') throw new Error('the client process did not get ready');
    const connectMs = performance.now() - connectStarted;
    const deliveredBefore = gateway.stats().delivered;
    const cpuBefore = process.cpuUsage();

    // Steady phase: one append every 1/RATE s, not awaited, so a slow fsync does not stretch the schedule.
    const appends: Array<Promise<unknown>> = [];
    const appendMs: number[] = [];
    const started = performance.now();
    for (let i = 0; i < NOTIFICATIONS; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      times.steady!.sentAt[i] = now();
      appends.push(log.append(notification('steady', i)).then(() => appendMs.push(now() - times.steady!.sentAt[i]!)));
    }
    await Promise.all(appends);
    child.stdin!.write(`wait ${NOTIFICATIONS}\n`);
    await nextLine();

    // Burst phase: every notification in one append batch.
    const burstAt = now();
    for (let i = 0; i < NOTIFICATIONS; i++) times.burst!.sentAt[i] = burstAt;
    await log.appendAll(Array.from({ length: NOTIFICATIONS }, (_, i) => notification('burst', i)));
    child.stdin!.write(`wait ${2 * NOTIFICATIONS}\n`);
    await nextLine();
    const cpu = process.cpuUsage(cpuBefore);

    child.stdin!.write(`report ${JSON.stringify(times)}\n`);
    const report = JSON.parse(await nextLine()) as ClientReport;
    child.stdin!.end();
    await exited;
    const { steady, burst } = report.phases;
    if (!steady || !burst) throw new Error('the clients received no notifications');
    const stats = gateway.stats();
    const sortedAppend = appendMs.sort((a, b) => a - b);
    const delivered = stats.delivered - deliveredBefore;
    return [
      ['fanout.clients', CLIENTS],
      ['fanout.notifications_per_phase', NOTIFICATIONS],
      ['fanout.connect_and_auth_ms', connectMs],
      ['fanout.steady_rate_per_s', RATE],
      ['fanout.steady_messages_per_s', steady.received / steady.seconds],
      ['fanout.steady_append_p99_ms', sortedAppend[Math.ceil(0.99 * sortedAppend.length) - 1] ?? NaN],
      ['fanout.steady_p50_latency_ms', steady.endToEnd.p50],
      ['fanout.steady_p99_latency_ms', steady.endToEnd.p99],
      ['fanout.steady_max_latency_ms', steady.endToEnd.max],
      ['fanout.steady_fanout_p99_ms', steady.fanOut.p99],
      ['fanout.burst_messages_per_s', burst.received / burst.seconds],
      ['fanout.burst_p99_latency_ms', burst.endToEnd.p99],
      ['fanout.server_cpu_us_per_message', ((cpu.user + cpu.system) / delivered)],
      ['fanout.delivered', delivered],
      ['fanout.lost', report.lost],
      ['fanout.clients_dropped', CLIENTS - report.connected],
      ['fanout.slow_consumers_closed', stats.closed.slowConsumer],
    ];
  } finally {
    probe.unsubscribe();
    child.kill();
    await app.close();
    await log.close();
  }
}

if (process.argv[2] === '--clients') {
  await clientsChild(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { report } = await import('./util.ts');
  report(await run());
}
