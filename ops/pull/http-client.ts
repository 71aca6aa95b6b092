/** The distribution API as the analyst's side calls it: the manifest, and files with resume (Range). */
import { createWriteStream } from 'node:fs';
import { copyFile, link, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { adaError } from '../../events/index.ts';
import type { AnalystManifest, ManifestFile } from '../../pipeline/index.ts';
import { FileHasher } from './file-hasher.ts';

/** A verified download: bytes resumed from an earlier pull, and the file's size and modification time. */
export interface Downloaded {
  resumed: number;
  size: number;
  mtimeMs: number;
}

/** A client of one broker with one token. */
export interface DistributionClient {
  manifest(): Promise<AnalystManifest>;
  /**
   * Downloads a file to `dest` (via `partial`, resumed when it holds a prefix; `fresh` when the caller knows there is
   * no partial), verifying its sha256. Reports bytes as they arrive; returns how many bytes were resumed instead of
   * downloaded, and the size and modification time of the verified file.
   */
  download(file: ManifestFile, partial: string, dest: string, onBytes: (n: number) => void, fresh?: boolean): Promise<Downloaded>;
  close(): void;
}

/** Most bytes of a download held in memory to be written together (the write stream's high-water mark). */
const WRITE_BATCH_BYTES = 1024 * 1024;

/** Longest answer read for the manifest or an error body. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;

function request(server: string, token: string, agent: http.Agent, pathname: string, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  const url = new URL(pathname, `${server}/`);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { agent, headers: { authorization: `Bearer ${token}`, ...headers } }, resolve);
    req.on('error', (err) => reject(adaError('UNAVAILABLE', `cannot reach ${server}: ${err.message}`, {}, err)));
  });
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of res) {
    total += (c as Buffer).length;
    if (total > MAX_JSON_BYTES) throw adaError('BAD_REQUEST', 'the server answered more than 256 MB of JSON');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function failure(res: http.IncomingMessage, what: string): Promise<Error> {
  const text = await readBody(res).catch(() => '');
  let message = text.slice(0, 500);
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    // Not JSON: keep the text.
  }
  if (res.statusCode === 401) return adaError('UNAUTHENTICATED', 'the server refused the token (revoked, expired or mistyped); ask your admin for a new one and pull with --token ada_…');
  if (res.statusCode === 403) return adaError('FORBIDDEN', `${what}: ${message}`);
  return adaError(res.statusCode && res.statusCode < 500 ? 'BAD_REQUEST' : 'UNAVAILABLE', `${what}: HTTP ${res.statusCode} ${message}`);
}

/** Creates a client; `concurrency` bounds the sockets open at once. */
export function distributionClient(server: string, token: string, concurrency: number): DistributionClient {
  const agent = new (server.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: concurrency });
  const hasher = new FileHasher();
  return {
    async manifest() {
      const res = await request(server, token, agent, 'api/v1/manifest', { accept: 'application/json' });
      if (res.statusCode !== 200) throw await failure(res, 'GET /api/v1/manifest');
      return JSON.parse(await readBody(res)) as AnalystManifest;
    },
    async download(file, partial, dest, onBytes, fresh = false) {
      let have = fresh ? 0 : await stat(partial).then((s) => s.size, () => 0);
      if (have > file.size) {
        await rm(partial, { force: true });
        have = 0;
      }
      const etag = `"${file.sha256}"`;
      const headers: Record<string, string> = { 'if-match': etag, ...(have > 0 && have < file.size ? { range: `bytes=${have}-`, 'if-range': etag } : {}) };
      const resumed = have;
      if (have < file.size || file.size === 0) {
        const res = await request(server, token, agent, `api/v1/files/${file.path.split('/').map(encodeURIComponent).join('/')}`, headers);
        if (res.statusCode === 200 && have > 0) {
          // The server sent the whole file (the partial was of another version): start over.
          res.resume();
          await rm(partial, { force: true });
          return this.download(file, partial, dest, onBytes, true);
        }
        if (res.statusCode === 412) {
          res.resume();
          throw adaError('REPUBLISHED', `${file.path} was republished while pulling; the manifest is read again`);
        }
        if (res.statusCode !== 200 && res.statusCode !== 206) throw await failure(res, `GET ${file.path}`);
        // What arrives in one turn of the event loop (often several 64 KiB reads of the socket) is written with one
        // writev, up to WRITE_BATCH_BYTES: each write is a hand-off to libuv's thread pool and back.
        const out = createWriteStream(partial, { flags: have > 0 ? 'a' : 'w', mode: 0o600, highWaterMark: WRITE_BATCH_BYTES });
        let corked = false;
        res.on('data', (chunk: Buffer) => {
          onBytes(chunk.length);
          if (corked) return;
          corked = true;
          out.cork();
          setImmediate(() => {
            corked = false;
            out.uncork();
          });
        });
        await pipeline(res, out);
      }
      // The whole file as written, resumed prefix and all, hashed off this thread.
      const hashed = await hasher.hash(partial);
      const got = hashed.sha256;
      if (got !== file.sha256) {
        await rm(partial, { force: true });
        throw adaError('CHECKSUM_MISMATCH', `${file.path}: downloaded bytes have sha256 ${got.slice(0, 12)}…, the manifest says ${file.sha256.slice(0, 12)}…; it was republished meanwhile or corrupted in transit: pull again`);
      }
      // A link, not a rename: if this pull starts over (a file was republished meanwhile), the verified download stays.
      // The link is the same file, with the size and time just hashed; a copy (no hard links here) has its own time.
      const placed = await link(partial, dest).then(() => hashed, async () => {
        await copyFile(partial, dest);
        return stat(dest);
      });
      return { resumed, size: placed.size, mtimeMs: placed.mtimeMs };
    },
    close() {
      agent.destroy();
      hasher.close();
    },
  };
}
