/**
 * The thin `ada sync`: when `ada serve` runs on the data directory, the sync runs in its queue and this process
 * only asks through the control socket, prints the progress the server streams back, and the outcome. It imports
 * node:http and nothing heavy of ours (no pipeline, DuckDB, rxjs, fastify or configuration loader), so a served
 * sync costs little more than starting Node. The server answers `POST /sync` with `Accept: application/x-ndjson`
 * by one JSON line per progress step, then one line with the outcomes or the error.
 */
import http from 'node:http';
import net from 'node:net';
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

/**
 * Runs a sync of `tables` (all when empty) in the `ada serve` that holds `dataDir`'s log, streaming its progress;
 * resolves to its outcomes, or to undefined when no server listens on the data directory's control socket.
 */
export function syncThroughServer(dataDir: string, tables: readonly string[], options: ServedSyncOptions): Promise<SyncOutcome[] | undefined> {
  return new Promise((resolve, reject) => {
    // Set at the first outcome, error or abort: whatever the connection does after it is ignored.
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (made: () => Promise<Error>): void => settle(() => void made().then(reject));
    const body = JSON.stringify({ tables });
    const socketPath = controlSocketOf(dataDir);
    const req = http.request({
      // A connection of its own, not through http's agent: the agent's TLS server-name check compiles the IPv6
      // pattern, a visible part of a command that lasts a few tens of milliseconds.
      createConnection: () => net.createConnection(socketPath),
      method: 'POST',
      path: '/sync',
      headers: { [SOURCE_HEADER]: options.source, accept: SYNC_STREAM_TYPE, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const status = res.statusCode ?? 500;
      res.setEncoding('utf8');
      let buffered = '';
      if (!String(res.headers['content-type'] ?? '').startsWith(SYNC_STREAM_TYPE)) {
        // A JSON answer: the request was refused before any sync began (a bad request, or a server that does not stream).
        res.on('data', (chunk: string) => (buffered += chunk));
        res.on('end', () => {
          let parsed: { outcomes?: SyncOutcome[]; code?: string; message?: string } = {};
          try {
            parsed = JSON.parse(buffered) as typeof parsed;
          } catch {
            // Not JSON: reported by status below.
          }
          if (status < 400 && Array.isArray(parsed.outcomes)) settle(() => resolve(parsed.outcomes));
          else fail(() => failure(undefined, status, parsed.code, parsed.message ?? `the running server refused (${status})`));
        });
        return;
      }
      options.onAccepted?.();
      const onLine = (line: SyncStreamLine): void => {
        if ('progress' in line) options.onProgress?.(line.progress);
        else if ('outcomes' in line) settle(() => resolve(line.outcomes));
        else fail(() => failure(undefined, line.error.status, line.error.code, line.error.message));
      };
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const text = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (text.trim() === '') continue;
          try {
            onLine(JSON.parse(text) as SyncStreamLine);
          } catch {
            fail(() => failure(undefined, 500, undefined, 'it sent a line that is not JSON'));
          }
        }
      });
      // Ended (or cut) without an outcome line: the server stopped while the sync ran.
      const cut = (): void => fail(() => failure(undefined, 400, undefined, 'ada serve closed the control connection before the sync finished; see its log and `ada events tail --type SyncFailed`'));
      res.on('end', cut);
      res.on('close', cut);
      res.on('error', cut);
    });
    req.on('error', (err: Error & { code?: string }) => {
      if (NOT_SERVED.has(err.code ?? '')) settle(() => resolve(undefined));
      else fail(() => failure(undefined, 400, undefined, `ada serve's control socket failed: ${err.message}`));
    });
    const onAbort = (): void => {
      fail(() => failure('cancelled', 400, undefined, 'stopped waiting; the sync goes on in ada serve (see `ada events tail`)'));
      req.destroy();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}
