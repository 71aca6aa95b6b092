/** Test harness of the notification gateway: a real fastify server on 127.0.0.1:0, a real event log, real ws clients. */
import path from 'node:path';
import type { TestContext } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Observable } from 'rxjs';
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { EventLog } from '../../../events/index.ts';
import type { NewEvent, RecordedEvent } from '../../../events/index.ts';
import type { Principal } from '../../../pipeline/projections/notifications/index.ts';
import { notificationGateway } from '../../../portal/notifications/index.ts';
import type { Credential, GatewayOptions, NotificationGatewayPlugin } from '../../../portal/notifications/index.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** Tokens every harness knows: token → principal. */
export const TOKENS: Record<string, Principal> = {
  'tok-admin': { name: 'root', role: 'admin' },
  'tok-ann': { name: 'ann', role: 'analyst' },
  'tok-bob': { name: 'bob', role: 'analyst' },
  'tok-pat': { name: 'pat', role: 'privileged' },
};

/** Tables of the harness configuration: `salaries` is private. */
export const TABLES = [
  { name: 'orders', id: 'in.c-shop.orders', private: false },
  { name: 'customers', id: 'in.c-shop.customers', private: false },
  { name: 'salaries', id: 'in.c-hr.salaries', private: true },
];

export interface Harness {
  app: FastifyInstance;
  log: EventLog;
  gateway: NotificationGatewayPlugin;
  wsUrl: string;
  httpUrl: string;
  /** Mutable: delete a token to make it invalid from then on. */
  tokens: Map<string, Principal>;
  sessions: Map<string, Principal>;
  /** Every credential `authenticate` was called with. */
  calls: Credential[];
  /** The `from` of every read$ the gateway made (replays). */
  reads: number[];
}

/** Starts a gateway on a fresh log; everything is closed after the test. */
export async function startGateway(t: TestContext, opts: {
  options?: Partial<GatewayOptions>;
  revoked$?: Observable<{ name: string }>;
  before?: (log: EventLog) => Promise<void>;
  /** Replaces the live stream the gateway subscribes to (to simulate a lagging or redelivering one). */
  follow?: (log: EventLog, from: number) => Observable<RecordedEvent>;
  /** The configured tables (default `TABLES`). */
  tables?: ReadonlyArray<{ name: string; id?: string; private: boolean }>;
  /** The configured datasets (default none: every dataset's files count as private). */
  datasets?: Record<string, { private?: boolean; requires: string[] }>;
} = {}): Promise<Harness> {
  const dir = await tempDir(t, 'ada-notifications-');
  const log = await EventLog.open(path.join(dir, 'events'), { logger: { warn: () => undefined } });
  await opts.before?.(log);
  const tokens = new Map(Object.entries(TOKENS));
  const sessions = new Map<string, Principal>([['sess-ann', { name: 'ann', role: 'analyst' }]]);
  const calls: Credential[] = [];
  const reads: number[] = [];
  const gateway = notificationGateway({
    log: {
      append: (e) => log.append(e),
      follow$: (from) => (opts.follow ? opts.follow(log, from ?? 1) : log.follow$(from)),
      read$: (from) => {
        reads.push(from ?? 1);
        return log.read$(from);
      },
      get head() {
        return log.head;
      },
    },
    config: { tables: opts.tables ?? TABLES, ...(opts.datasets ? { instance: { datasets: opts.datasets } } : {}) },
    authenticate: async (c) => {
      calls.push(c);
      return c.token !== undefined ? tokens.get(c.token) : c.session !== undefined ? sessions.get(c.session) : undefined;
    },
    ...(opts.revoked$ ? { revoked$: opts.revoked$ } : {}),
    options: opts.options,
  });
  const app = Fastify({ logger: false });
  await app.register(gateway);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  t.after(async () => {
    await app.close();
    await log.close();
  });
  return { app, log, gateway, wsUrl: `ws://127.0.0.1:${address.port}/ws/notifications`, httpUrl: `http://127.0.0.1:${address.port}`, tokens, sessions, calls, reads };
}

/** A message the server sent. */
export type ServerMessage = { type: string; [k: string]: unknown };

/** A notification as received. */
export interface ReceivedNotification {
  type: 'notification';
  id: string;
  title: string;
  message: string;
  timestamp: string;
  level: string;
  position: number;
  table?: string;
  dataset?: string;
  to?: string;
}

/** A ws client that records every message and how it was closed. */
export class TestClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as ServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const w of this.waiters.splice(0)) w();
    }));
    ws.on('error', () => undefined);
  }

  /**
   * Opens a connection (closed after the test). `onSocket` runs before anything can arrive, for listeners
   * that must not miss a frame (the server pings from the moment it accepts the socket).
   */
  static async connect(t: TestContext, url: string, options: ClientOptions = {}, onSocket?: (ws: WebSocket) => void): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    onSocket?.(ws);
    const client = new TestClient(ws);
    t.after(() => ws.terminate());
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Connects and authenticates; resolves with the server's reply (auth_ok or auth_error). */
  static async login(t: TestContext, url: string, auth: { token?: string; session?: string; since?: number }, options: ClientOptions = {}): Promise<{ client: TestClient; reply: ServerMessage }> {
    const client = await TestClient.connect(t, url, options);
    client.send({ type: 'auth', ...auth });
    const reply = await client.next((m) => m.type === 'auth_ok' || m.type === 'auth_error');
    return { client, reply };
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Notifications received so far. */
  get notifications(): ReceivedNotification[] {
    return this.messages.filter((m): m is ServerMessage & ReceivedNotification => m.type === 'notification');
  }

  /** Waits for the first message matching `predicate` (also one already received). */
  async next(predicate: (m: ServerMessage) => boolean, timeoutMs = 5_000): Promise<ServerMessage> {
    let found: ServerMessage | undefined;
    await this.until(() => (found = this.messages.find(predicate)) !== undefined, timeoutMs, 'a matching message');
    return found!;
  }

  /** Waits until `n` notifications arrived. */
  async notificationsCount(n: number, timeoutMs = 5_000): Promise<ReceivedNotification[]> {
    await this.until(() => this.notifications.length >= n, timeoutMs, `${n} notifications`);
    return this.notifications;
  }

  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.messages.length} messages: ${JSON.stringify(this.messages).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Resolves with what `promise` gives, or rejects after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms))),
  ]);
}

/** Polls `check` until true or `ms` passed. */
export async function eventually(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A TablePublished event of `table` with `rows` rows. */
export function published(table: string, rows: number): NewEvent {
  return {
    type: 'TablePublished', v: 1,
    data: { runId: `run-${table}-${rows}`, table, folder: 'shop', strategy: 'full_refresh', files: [], rows, bytes: rows * 10, schema: [], contentHash: `h${rows}` },
  };
}

/** A FilesPublished event: one file under `dataset`'s folder `files/<dataset>`. */
export function filesPublished(dataset: string): NewEvent {
  return { type: 'FilesPublished', v: 1, data: { dataset, folder: `files/${dataset}`, files: [{ path: `files/${dataset}/a.txt`, bytes: 1, sha256: 'a'.repeat(64) }] } };
}

/** A NotificationDispatched event. */
export function dispatched(title: string, message: string, extra: { to?: string; table?: string } = {}): NewEvent {
  return { type: 'NotificationDispatched', v: 1, data: { id: `d-${title}`, title, message, level: 'info', by: 'root', ...extra } };
}

/** An event that produces no notification. */
export function silent(n: number): NewEvent {
  return { type: 'TimerFired', v: 1, data: { timer: `t${n}`, tables: ['orders'], scheduledAt: '2026-01-01T00:00:00.000Z', catchUp: false } };
}
