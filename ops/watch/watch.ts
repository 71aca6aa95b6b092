/**
 * `ada watch`: follows the broker's notification websocket (docs/notifications.md), resuming from the last
 * position seen (kept in `.ada/watch.json`), reports updates of the analyst's tables and datasets, and with `pull`
 * runs a pull when one of the tables, or files of one of the datasets, are published. Reconnects with backoff until
 * stopped.
 */
import { readFile } from 'node:fs/promises';
import { adaError } from '../../events/index.ts';
import type { PullLayout } from '../pull/index.ts';
import { writeAtomic } from '../pull/atomic-write.ts';

/** A notification as the websocket sends it. */
export interface WatchNotification {
  type: 'notification';
  id: string;
  title: string;
  message: string;
  timestamp: string;
  level: string;
  table?: string;
  /** The dataset whose files were published (`FilesPublished`). */
  dataset?: string;
  position: number;
}

/** What was published: a table, or files of a dataset. */
export type Published = { table: string } | { dataset: string };

/** What the watcher needs. */
export interface WatchOptions {
  layout: PullLayout;
  server: string;
  token: string;
  signal: AbortSignal;
  /** Reports a notification worth showing. */
  notify(n: WatchNotification): void;
  /** Reports connection changes and errors. */
  log(message: string): void;
  /** Called when one of the analyst's tables, or files of one of their datasets, were published; pulls are never run two at a time. */
  onPublished?: (what: Published) => Promise<void>;
}

/** Backoff between reconnects: 1 s doubling to 30 s. */
const BACKOFF_MS = { first: 1000, max: 30_000 };

/** Close codes after which the same token must not be retried (docs/notifications.md). */
const FATAL_CLOSES = new Set([4001, 4003]);

/** A `TablePublished` notification's title: "Table orders updated". */
const PUBLISHED = /^Table \S+ updated\b/;

async function readPosition(file: string): Promise<number | undefined> {
  try {
    const p = (JSON.parse(await readFile(file, 'utf8')) as { position?: unknown }).position;
    return typeof p === 'number' && p >= 0 ? p : undefined;
  } catch {
    return undefined;
  }
}

/** What the last pulled manifest gives the analyst: tables, and datasets (every one for an admin); undefined before a pull. */
interface Mine {
  tables: Set<string>;
  dataset(name: string): boolean;
}

async function mine(layout: PullLayout): Promise<Mine | undefined> {
  try {
    const m = JSON.parse(await readFile(layout.manifest, 'utf8')) as { tables: Array<{ name: string }>; analyst?: { role?: string; datasets?: string[] } };
    const datasets = new Set(m.analyst?.datasets ?? []);
    return { tables: new Set(m.tables.map((t) => t.name)), dataset: (name) => m.analyst?.role === 'admin' || datasets.has(name) };
  } catch {
    return undefined;
  }
}

/** Watches until the signal aborts; rejects on a refused token. */
export async function watch(opts: WatchOptions): Promise<void> {
  const { default: WebSocket } = await import('ws');
  const positionFile = `${opts.layout.meta}/watch.json`;
  let backoff = BACKOFF_MS.first;
  let pulling: Promise<void> = Promise.resolve();
  let pullQueued = false;
  const schedulePull = (what: Published): void => {
    if (!opts.onPublished || pullQueued) return;
    pullQueued = true;
    pulling = pulling.then(async () => {
      pullQueued = false;
      await opts.onPublished!(what).catch((err: unknown) => opts.log(`pull failed: ${(err as Error).message}`));
    });
  };
  while (!opts.signal.aborted) {
    const since = await readPosition(positionFile);
    const url = `${opts.server.replace(/^http/, 'ws')}/ws/notifications`;
    const outcome = await new Promise<{ code: number; reason: string; authed: boolean }>((resolve) => {
      const ws = new WebSocket(url);
      let authed = false;
      let saving: Promise<void> = Promise.resolve();
      const abort = (): void => ws.close(1000, 'client stopping');
      opts.signal.addEventListener('abort', abort, { once: true });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: opts.token, ...(since !== undefined ? { since } : {}) })));
      ws.on('message', (data) => {
        let msg: { type?: string; reason?: string; user?: string; position?: number };
        try {
          msg = JSON.parse(String(data)) as typeof msg;
        } catch {
          return;
        }
        if (msg.type === 'auth_ok') {
          authed = true;
          backoff = BACKOFF_MS.first;
          opts.log(`watching ${opts.server} as ${msg.user}${since !== undefined ? ` (resuming after position ${since})` : ''}`);
          if (since === undefined && typeof msg.position === 'number') saving = saving.then(() => writeAtomic(positionFile, JSON.stringify({ position: msg.position }), 0o600));
          return;
        }
        if (msg.type === 'auth_error') {
          opts.log(`refused: ${msg.reason}`);
          return;
        }
        if (msg.type !== 'notification') return;
        const n = msg as unknown as WatchNotification;
        saving = saving.then(async () => {
          const my = await mine(opts.layout);
          // Notifications about tables and datasets the analyst does not subscribe to are not theirs (the server sends every one they may see).
          if (n.dataset !== undefined) {
            if (!my || my.dataset(n.dataset)) {
              opts.notify(n);
              schedulePull({ dataset: n.dataset });
            }
          } else if (n.table === undefined || !my || my.tables.has(n.table)) {
            opts.notify(n);
            if (n.table !== undefined && PUBLISHED.test(n.title)) schedulePull({ table: n.table });
          }
          await writeAtomic(positionFile, JSON.stringify({ position: n.position }), 0o600);
        });
      });
      ws.on('error', (err) => opts.log(`connection error: ${err.message}`));
      ws.on('close', (code, reason) => {
        opts.signal.removeEventListener('abort', abort);
        void saving.then(() => resolve({ code, reason: reason.toString(), authed }));
      });
    });
    if (opts.signal.aborted) break;
    if (FATAL_CLOSES.has(outcome.code)) throw adaError('UNAUTHENTICATED', `the server refused the token (${outcome.code} ${outcome.reason}); get a new one from your admin and run \`ada pull --token ada_…\``);
    opts.log(`disconnected (${outcome.code}${outcome.reason ? ` ${outcome.reason}` : ''}); reconnecting in ${backoff / 1000} s`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, backoff);
      opts.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    backoff = Math.min(backoff * 2, BACKOFF_MS.max);
  }
  await pulling;
}
