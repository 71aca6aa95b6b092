import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { it } from 'node:test';
import type { TestContext } from 'node:test';
import type { SyncProgress } from '../../../pipeline/index.ts';
import { controlSocketOf } from '../../../ops/control/socket-path.ts';
import { syncThroughServer } from '../../../ops/control/sync-client.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** What the fake server received: the request's head and body. */
interface Received {
  head: string;
  body: string;
}

/**
 * A fake control socket that answers every connection with `answer`, written in pieces of `piece` bytes with a pause
 * between them, so the client reads the answer cut at arbitrary places (inside a chunk's size, a character, a line).
 */
async function fakeServer(t: TestContext, answer: Buffer, piece: number): Promise<{ dataDir: string; received: Promise<Received> }> {
  const dataDir = await tempDir(t, 'ada-wire-');
  const socketPath = controlSocketOf(dataDir);
  await mkdir(path.dirname(socketPath), { recursive: true });
  let got!: (r: Received) => void;
  const received = new Promise<Received>((resolve) => (got = resolve));
  const server = net.createServer((socket) => {
    let raw = Buffer.alloc(0);
    // The client hangs up once it has the outcome (the end of the chunked body may still be on its way).
    socket.on('error', () => undefined);
    socket.on('data', async (bytes: Buffer) => {
      raw = Buffer.concat([raw, bytes]);
      const end = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, Math.max(end, 0)).toString('utf8');
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (end < 0 || raw.length < end + 4 + length) return;
      got({ head, body: raw.subarray(end + 4).toString('utf8') });
      for (let at = 0; at < answer.length && socket.writable; at += piece) {
        socket.write(answer.subarray(at, at + piece));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { dataDir, received };
}

/** An HTTP/1.1 answer with a chunked body made of `chunks`. */
function chunked(status: string, contentType: string, chunks: string[]): Buffer {
  const body = chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('');
  return Buffer.from(`HTTP/1.1 ${status}\r\ncontent-type: ${contentType}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${body}0\r\n\r\n`);
}

const progress = (table: string, phase: SyncProgress['phase']): SyncProgress => ({ table, index: 1, total: 1, phase, rows: 1, bytes: 10 });

it('the thin client reads the streamed answer however the connection cuts it: chunks, lines and characters split', async (t) => {
  const table = 'objednávky-ž';
  const outcome = { table, runId: 'r1', status: 'succeeded', rows: 1, bytes: 10, files: 1, durationMs: 5 };
  const lines = [JSON.stringify({ progress: progress(table, 'start') }), JSON.stringify({ progress: progress(table, 'done') }), JSON.stringify({ outcomes: [outcome] })];
  // One line cut over two chunks, and the last two lines in one chunk.
  const chunks = [`${lines[0]!.slice(0, 20)}`, `${lines[0]!.slice(20)}\n`, `${lines[1]}\n${lines[2]}\n`];
  for (const piece of [1, 3, 7, 4096]) {
    const { dataDir, received } = await fakeServer(t, chunked('200 OK', 'application/x-ndjson', chunks), piece);
    const seen: SyncProgress[] = [];
    let accepted = 0;
    const outcomes = await syncThroughServer(dataDir, [table], { source: 'cli:sync', onAccepted: () => accepted++, onProgress: (p) => seen.push(p) });
    assert.deepEqual(outcomes, [outcome], `pieces of ${piece} bytes`);
    assert.deepEqual(seen.map((p) => [p.table, p.phase]), [[table, 'start'], [table, 'done']]);
    assert.equal(accepted, 1);
    const { head, body } = await received;
    assert.match(head, /^POST \/sync HTTP\/1\.1\r\n/);
    assert.match(head, /\r\nx-ada-source: cli:sync\r\n/);
    assert.match(head, /\r\naccept: application\/x-ndjson\r\n/);
    assert.deepEqual(JSON.parse(body), { tables: [table] });
  }
});

it('the thin client reports a refusal sent as JSON with its code, and a stream cut before the outcome as an error', async (t) => {
  const refusal = JSON.stringify({ statusCode: 422, code: 'BAD_ARGUMENT', message: 'unknown table nope; configured: orders' });
  const sized = Buffer.from(`HTTP/1.1 422 Unprocessable Entity\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(refusal)}\r\n\r\n${refusal}`);
  const refused = await fakeServer(t, sized, 5);
  await assert.rejects(syncThroughServer(refused.dataDir, ['nope'], { source: 'cli:sync' }), { code: 'BAD_ARGUMENT', message: 'unknown table nope; configured: orders' });

  const cut = await fakeServer(t, chunked('200 OK', 'application/x-ndjson', [`${JSON.stringify({ progress: progress('orders', 'start') })}\n`]), 16);
  await assert.rejects(syncThroughServer(cut.dataDir, [], { source: 'cli:sync' }), { message: /ada serve closed the control connection before the sync finished/ });

  const streamedError = await fakeServer(t, chunked('200 OK', 'application/x-ndjson', [`${JSON.stringify({ error: { status: 500, code: 'PUBLISH_FAILED', message: 'disk on fire' } })}\n`]), 2);
  await assert.rejects(syncThroughServer(streamedError.dataDir, [], { source: 'cli:sync' }), { code: 'PUBLISH_FAILED', message: 'the running server failed: disk on fire' });

  const notHttp = await fakeServer(t, Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'), 64);
  await assert.rejects(syncThroughServer(notHttp.dataDir, [], { source: 'cli:sync' }), { message: /its answer is not HTTP/ });
});
