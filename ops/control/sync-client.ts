/**
 * The thin `ada sync`: when `ada serve` runs on the data directory, the sync runs in its queue and this process
 * only asks through the control socket, prints the progress the server streams back, and the outcome. It loads
 * node:net (once a socket is there) and nothing heavy of ours (no pipeline, DuckDB, rxjs, fastify or configuration
 * loader, not even node:http: the one request and its answer are read here, a small part of HTTP/1.1), so a served
 * sync costs little more than starting Node. The server answers `POST /sync` with `Accept: application/x-ndjson` by
 * one JSON line per progress step, then one line with the outcomes or the error.
 */
import { lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import type { SyncOutcome, SyncProgress } from '../../pipeline/index.ts';
import { SOURCE_HEADER } from './source-header.ts';
import { controlSocketOf } from './socket-path.ts';

/** Media type of the streamed answer of `POST /sync`. */
export const SYNC_STREAM_TYPE = 'application/x-ndjson';

/** An error as the server reports it: the HTTP status it maps to, a stable code, a message. */
export interface StreamedError {
  status: number;
  code: string;
  message: string;
}

/** One line of the streamed answer. */
export type SyncStreamLine = { progress: SyncProgress } | { outcomes: SyncOutcome[] } | { error: StreamedError };

/** What the thin client needs besides the tables. */
export interface ServedSyncOptions {
  /** Names the command in the events the server records (`cli:sync`). */
  source: string;
  /** Called once the server took the request (it may first finish its current run). */
  onAccepted?: () => void;
  onProgress?: (p: SyncProgress) => void;
  signal?: AbortSignal;
}

/**
 * Connection errors that mean no server listens: no socket file, or a socket left by a server killed without
 * cleanup. The sync then runs in this process. Any later failure is an error: the server may have run it.
 */
const NOT_SERVED = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ENOTDIR']);

/** An error with a stable code; the codes' table (ops/errors.ts) is loaded only on this path. */
async function failure(code: 'cancelled' | 'controlError' | undefined, status: number, serverCode: string | undefined, message: string): Promise<Error> {
  const { OpsErrorCode } = await import('../errors.ts');
  const err = new Error(status >= 500 ? `the running server failed: ${message}` : message) as Error & { code: string };
  err.code = serverCode ?? OpsErrorCode[code ?? 'controlError'];
  return err;
}

/** Largest response head (status line and headers) the client reads: the server's are a few hundred bytes. */
const MAX_HEAD_BYTES = 64 * 1024;

/** What the client needs of a response's head. */
interface ResponseHead {
  status: number;
  contentType: string;
}

/**
 * Reads one HTTP/1.1 response from the bytes of a connection (fed by `push`, and `end` when the connection ended): its
 * head, then its body as text (chunked, sized by `content-length`, or up to the end of the connection), then `complete`
 * once the body is whole. `push` returns false when the bytes are not HTTP.
 */
function responseReader(on: { head(head: ResponseHead): void; text(text: string): void; complete(): void }): { push(bytes: Buffer): boolean; end(): void } {
  let pending: Buffer = Buffer.alloc(0);
  let mode: 'head' | 'chunked' | 'sized' | 'to-close' | 'done' = 'head';
  let left = 0;
  const decoder = new TextDecoder();
  const text = (bytes: Buffer): void => {
    const t = decoder.decode(bytes, { stream: true });
    if (t) on.text(t);
  };
  const finish = (): void => {
    mode = 'done';
    on.complete();
  };
  const step = (): boolean | 'more' => {
    if (mode === 'head') {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return pending.length > MAX_HEAD_BYTES ? false : 'more';
      const [statusLine, ...lines] = pending.subarray(0, end).toString('latin1').split('\r\n');
      pending = pending.subarray(end + 4);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!);
      if (!m) return false;
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      if (/\bchunked\b/i.test(headers.get('transfer-encoding') ?? '')) mode = 'chunked';
      else if (headers.has('content-length')) {
        mode = 'sized';
        left = Number(headers.get('content-length'));
        if (!Number.isSafeInteger(left) || left < 0) return false;
      } else mode = 'to-close';
      on.head({ status: Number(m[1]), contentType: headers.get('content-type') ?? '' });
      if (mode === 'sized' && left === 0) finish();
      return true;
    }
    if (mode === 'sized' || mode === 'to-close') {
      if (pending.length === 0) return 'more';
      const take = mode === 'sized' ? pending.subarray(0, left) : pending;
      pending = pending.subarray(take.length);
      text(take);
      if (mode === 'sized' && (left -= take.length) === 0) finish();
      return true;
    }
    if (mode === 'chunked') {
      // `size[;extensions]\r\n`, the bytes, `\r\n`; a size of 0 ends the body (trailers are not read: the server sends none).
      const eol = pending.indexOf('\r\n');
      if (eol < 0) return pending.length > MAX_HEAD_BYTES ? false : 'more';
      const size = Number.parseInt(pending.subarray(0, eol).toString('latin1').split(';')[0]!.trim(), 16);
      if (!Number.isSafeInteger(size) || size < 0) return false;
      if (size === 0) {
        finish();
        return true;
      }
      if (pending.length < eol + 2 + size + 2) return 'more';
      text(pending.subarray(eol + 2, eol + 2 + size));
      pending = pending.subarray(eol + 2 + size + 2);
      return true;
    }
    return 'more';
  };
  return {
    push(bytes) {
      pending = pending.length ? Buffer.concat([pending, bytes]) : bytes;
      for (;;) {
        const r = step();
        if (r === false) return false;
        if (r === 'more' || mode === 'done') return true;
      }
    },
    end() {
      if (mode === 'to-close') finish();
    },
  };
}

/**
 * Runs a sync of `tables` (all when empty) in the `ada serve` that holds `dataDir`'s log, streaming its progress;
 * resolves to its outcomes, or to undefined when no server listens on the data directory's control socket.
 */
export function syncThroughServer(dataDir: string, tables: readonly string[], options: ServedSyncOptions): Promise<SyncOutcome[] | undefined> {
  const path = controlSocketOf(dataDir);
  // No socket file, no server (as when connecting fails so, below): a standalone sync does not load node:net.
  try {
    if (!lstatSync(path, { throwIfNoEntry: false })) return Promise.resolve(undefined);
  } catch (err) {
    if (NOT_SERVED.has((err as { code?: string }).code ?? '')) return Promise.resolve(undefined);
  }
  const { createConnection } = createRequire(import.meta.url)('node:net') as typeof net;
  return new Promise((resolve, reject) => {
    // Set at the first outcome, error or abort: whatever the connection does after it is ignored.
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      outcome();
    };
    const fail = (made: () => Promise<Error>): void => settle(() => void made().then(reject));
    const body = JSON.stringify({ tables });
    // Set once the head came: the first byte of the answer means the server took the connection.
    let answered = false;
    let streamed = false;
    let status = 500;
    let buffered = '';
    const onLine = (line: SyncStreamLine): void => {
      if ('progress' in line) options.onProgress?.(line.progress);
      else if ('outcomes' in line) settle(() => resolve(line.outcomes));
      else fail(() => failure(undefined, line.error.status, line.error.code, line.error.message));
    };
    const reader = responseReader({
      head(head) {
        answered = true;
        status = head.status;
        streamed = head.contentType.startsWith(SYNC_STREAM_TYPE);
        if (streamed) options.onAccepted?.();
      },
      text(chunk) {
        buffered += chunk;
        // A JSON answer (the request was refused before any sync began, or a server that does not stream) is read whole.
        if (!streamed) return;
        for (let nl = buffered.indexOf('\n'); nl >= 0 && !settled; nl = buffered.indexOf('\n')) {
          const text = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (text.trim() === '') continue;
          let line: SyncStreamLine;
          try {
            line = JSON.parse(text) as SyncStreamLine;
          } catch {
            fail(() => failure(undefined, 500, undefined, 'it sent a line that is not JSON'));
            return;
          }
          onLine(line);
        }
      },
      complete() {
        if (streamed) return cut();
        let parsed: { outcomes?: SyncOutcome[]; code?: string; message?: string } = {};
        try {
          parsed = JSON.parse(buffered) as typeof parsed;
        } catch {
          // Not JSON: reported by status below.
        }
        if (status < 400 && Array.isArray(parsed.outcomes)) settle(() => resolve(parsed.outcomes));
        else fail(() => failure(undefined, status, parsed.code, parsed.message ?? `the running server refused (${status})`));
      },
    });
    // Ended (or cut) without an outcome line: the server stopped while the sync ran.
    const cut = (): void => fail(() => failure(undefined, 400, undefined, 'ada serve closed the control connection before the sync finished; see its log and `ada events tail --type SyncFailed`'));
    const socket = createConnection(path);
    socket.on('data', (bytes: Buffer) => {
      if (!reader.push(bytes)) fail(() => failure(undefined, 500, undefined, 'its answer is not HTTP'));
    });
    socket.on('end', () => {
      reader.end();
      cut();
    });
    socket.on('close', cut);
    socket.on('error', (err: Error & { code?: string }) => {
      if (!answered && NOT_SERVED.has(err.code ?? '')) settle(() => resolve(undefined));
      else fail(() => failure(undefined, 400, undefined, `ada serve's control socket failed: ${err.message}`));
    });
    const onAbort = (): void => {
      fail(() => failure('cancelled', 400, undefined, 'stopped waiting; the sync goes on in ada serve (see `ada events tail`)'));
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    // One request per connection, closed by the server after its answer. Not half-closed by us: the server would take
    // the end of our side for a client that left and stop streaming.
    socket.write([
      'POST /sync HTTP/1.1', 'host: localhost', `${SOURCE_HEADER}: ${options.source}`, `accept: ${SYNC_STREAM_TYPE}`,
      'content-type: application/json', `content-length: ${Buffer.byteLength(body)}`, 'connection: close', '', body,
    ].join('\r\n'));
  });
}
