/**
 * Streams one HTTP body to a file: gzip is detected by its magic bytes and inflated on the way, nothing is held in
 * memory beyond a chunk, and a body that ends early (shorter than Content-Length, a dropped connection, a cut gzip
 * stream) or stalls is an error, never a silently short file.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { adaError, hasCode } from '../../events/index.ts';
import { KeboolaErrorCode, safeUrl } from './errors.ts';
import type { StoreRequest } from './object-store.ts';
import { parseRetryAfter } from './retry-policy.ts';

/** How one download runs. */
export interface DownloadOptions {
  signal: AbortSignal;
  /** No byte for this long (headers included) aborts the attempt as stalled. */
  stallTimeoutMs: number;
  fetch: typeof fetch;
  /** Called with the body bytes of each chunk received (compressed size). */
  onBytes?: (bytes: number) => void;
  /** Masks secrets in an error body; applied to the whole body before it is cut to an excerpt. */
  redact: (text: string) => string;
}

/** What a completed download wrote. */
export interface DownloadResult {
  /** Bytes received over the wire. */
  bytes: number;
  /** Bytes written to the file (after inflating). */
  written: number;
  gzip: boolean;
}

/** Most of an error body we quote: S3, GCS and Azure explain expiry in a short XML or JSON document. */
const MAX_ERROR_BODY = 2_000;
const GZIP_MAGIC = [0x1f, 0x8b];
/** zlib's default 16 KiB output chunks make gunzip 2.5× slower on slices of tens of MB than 256 KiB ones (measured). */
const GUNZIP_CHUNK_BYTES = 256 * 1024;
/** Buffered bytes before the file write applies backpressure. */
const WRITE_BUFFER_BYTES = 1024 * 1024;

/**
 * Downloads `request` into `target` (through `<target>.part`, renamed when complete). Failures are
 * KEBOOLA_DOWNLOAD_FAILED errors whose details say `retryable` (5xx, 429, network, truncated, stalled),
 * `refresh` (400/401/403: an expired URL or credentials; ask Keboola for a fresh file detail) and `retryAfterMs`.
 * An abort of `options.signal` rejects with the signal's reason.
 */
export async function downloadToFile(request: StoreRequest, target: string, options: DownloadOptions): Promise<DownloadResult> {
  const where = safeUrl(request.url);
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer.reason);
  if (outer.aborted) throw outer.reason;
  outer.addEventListener('abort', onOuterAbort, { once: true });
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort(new Error('stalled'));
    }, options.stallTimeoutMs);
  };
  const partial = `${target}.part`;
  arm();
  try {
    const res = await options.fetch(request.url, { headers: request.headers, signal: controller.signal, redirect: 'follow' });
    if (!res.ok) {
      const body = await readExcerpt(res, options.redact);
      const status = res.status;
      throw adaError(KeboolaErrorCode.downloadFailed, `Downloading ${where} failed with HTTP ${status}${body ? `: ${body}` : ''}`, {
        status,
        retryable: status === 429 || status >= 500,
        refresh: status === 400 || status === 401 || status === 403,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      });
    }
    const declared = res.headers.get('content-encoding') ? undefined : numberOrUndefined(res.headers.get('content-length'));
    let received = 0;
    const reader = res.body?.getReader();
    const head: Uint8Array[] = [];
    let headBytes = 0;
    let done = reader === undefined;
    while (!done && headBytes < GZIP_MAGIC.length) {
      const step = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
      if (step.done) done = true;
      else {
        head.push(step.value);
        headBytes += step.value.byteLength;
        received += step.value.byteLength;
        options.onBytes?.(step.value.byteLength);
        arm();
      }
    }
    const first = Buffer.concat(head.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
    const gzip = first.length >= 2 && first[0] === GZIP_MAGIC[0] && first[1] === GZIP_MAGIC[1];
    async function* source(): AsyncGenerator<Uint8Array> {
      if (first.length > 0) yield first;
      if (done || !reader) return;
      for (;;) {
        const step = await reader.read();
        if (step.done) return;
        received += step.value.byteLength;
        options.onBytes?.(step.value.byteLength);
        arm();
        yield step.value;
      }
    }
    let written = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        written += chunk.length;
        callback(null, chunk);
      },
    });
    const input = Readable.from(source(), { objectMode: false });
    const output = createWriteStream(partial, { highWaterMark: WRITE_BUFFER_BYTES });
    if (gzip) await pipeline(input, createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }), count, output, { signal: controller.signal });
    else await pipeline(input, count, output, { signal: controller.signal });
    if (declared !== undefined && received !== declared) {
      throw adaError(KeboolaErrorCode.downloadFailed, `Downloading ${where} ended after ${received} of ${declared} bytes`, { retryable: true, truncated: true });
    }
    await rename(partial, target);
    return { bytes: received, written, gzip };
  } catch (err) {
    await rm(partial, { force: true });
    if (outer.aborted) throw outer.reason;
    if (hasCode(err, KeboolaErrorCode.downloadFailed)) throw err;
    if (stalled) {
      throw adaError(KeboolaErrorCode.downloadFailed, `Downloading ${where} stalled: no data for ${Math.round(options.stallTimeoutMs / 1000)} s`, { retryable: true, stalled: true });
    }
    const message = err instanceof Error ? err.message : String(err);
    const gzipBroken = /unexpected end of file|incorrect header check|invalid (block|distance|stored)/i.test(message);
    throw adaError(KeboolaErrorCode.downloadFailed, `Downloading ${where} failed: ${gzipBroken ? `the gzip stream is damaged or cut short (${message})` : describeNetworkError(err)}`, {
      retryable: true, truncated: gzipBroken,
    });
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuterAbort);
  }
}

/** A short, single-line excerpt of an error body, secrets masked by `redact` on the whole body before the cut. */
export async function readExcerpt(res: Response, redact: (text: string) => string): Promise<string> {
  try {
    const text = redact(await res.text());
    return text.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_BODY);
  } catch {
    return '';
  }
}

/** What a failed fetch says, including undici's cause (`ECONNRESET`, `other side closed`, …). */
export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? `${(cause as { code?: string }).code ? `${(cause as { code?: string }).code}: ` : ''}${cause.message}` : '';
  return detail && !err.message.includes(detail) ? `${err.message} (${detail})` : err.message;
}

function numberOrUndefined(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
