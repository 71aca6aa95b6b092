/**
 * The control socket of a running `ada serve`: a Unix socket in the data directory (mode 600)
 * through which other `ada` commands append events and run syncs while the server holds the
 * log's writer lock. Only local users with access to the data directory can reach it.
 */
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { adaError } from '../events/index.ts';
import type { AppendResult, NewEvent } from '../events/index.ts';
import type { HealthReport, SyncOutcome } from '../pipeline/index.ts';

/** Largest request the control socket reads: events are small; a batch of a few hundred fits. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Path of the control socket of a data directory. */
export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'run', 'ada.sock');
}

/** What the control server forwards to the running broker. */
export interface ControlHandlers {
  append(events: NewEvent[]): Promise<AppendResult[]>;
  sync(tables: string[]): Promise<SyncOutcome[]>;
  health(): Promise<HealthReport>;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw adaError('BODY_TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

/** Starts the control server; the returned function stops it and removes the socket. */
export async function startControlServer(dataDir: string, handlers: ControlHandlers): Promise<() => Promise<void>> {
  const socket = controlSocketPath(dataDir);
  await mkdir(path.dirname(socket), { recursive: true, mode: 0o700 });
  // A socket left by a killed server: this process holds the log lock, so no server owns it.
  await rm(socket, { force: true });
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    (async () => {
      const body = req.method === 'POST' ? await readJson(req) as Record<string, unknown> : {};
      if (req.method === 'POST' && req.url === '/events') {
        const events = body.events;
        if (!Array.isArray(events)) return reply(400, { code: 'BAD_ARGUMENT', message: 'events must be an array' });
        return reply(200, { results: await handlers.append(events as NewEvent[]) });
      }
      if (req.method === 'POST' && req.url === '/sync') {
        const tables = body.tables;
        if (!Array.isArray(tables) || !tables.every((t) => typeof t === 'string')) return reply(400, { code: 'BAD_ARGUMENT', message: 'tables must be a list of names' });
        return reply(200, { outcomes: await handlers.sync(tables as string[]) });
      }
      if (req.method === 'GET' && req.url === '/health') return reply(200, await handlers.health());
      return reply(404, { code: 'NOT_FOUND', message: `${req.method} ${req.url}` });
    })().catch((err: unknown) => {
      const e = err as { code?: string; message?: string };
      reply(e.code === 'BODY_TOO_LARGE' ? 413 : 500, { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) });
    });
  });
  // Syncs can take long; the socket is local, so no request timeout.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  await chmod(socket, 0o600);
  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await rm(socket, { force: true });
  };
}

/** A client of a running server's control socket. */
export class ControlClient {
  private constructor(readonly socket: string) {}

  /** Connects when a control socket exists and answers; undefined otherwise. */
  static async connect(dataDir: string): Promise<ControlClient | undefined> {
    const socket = controlSocketPath(dataDir);
    try {
      if (!(await stat(socket)).isSocket()) return undefined;
      const client = new ControlClient(socket);
      await client.request('GET', '/health');
      return client;
    } catch {
      return undefined;
    }
  }

  private request<T>(method: string, url: string, body?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socket, method, path: url, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T & { code?: string; message?: string };
            if ((res.statusCode ?? 500) >= 400) reject(adaError(parsed.code ?? 'CONTROL_ERROR', `the running server refused: ${parsed.message ?? res.statusCode}`));
            else resolve(parsed);
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** Appends events through the server's log. */
  async append(events: NewEvent[]): Promise<AppendResult[]> {
    return (await this.request<{ results: AppendResult[] }>('POST', '/events', { events })).results;
  }

  /** Runs a sync of the named tables (all when empty) in the server and waits for it. */
  async sync(tables: string[]): Promise<SyncOutcome[]> {
    return (await this.request<{ outcomes: SyncOutcome[] }>('POST', '/sync', { tables })).outcomes;
  }

  /** The server's health report. */
  health(): Promise<HealthReport> {
    return this.request<HealthReport>('GET', '/health');
  }
}
