/** The worker thread of `MonthEncoder`: encodes one month of one table per message and sends the bytes back. */
import { parentPort } from 'node:worker_threads';
import { encodeMonth } from './parquet-month.ts';
import { JIRA_TABLES } from './tables.ts';
import type { EncodeReply, EncodeRequest } from './month-encoder.ts';

const port = parentPort;
if (!port) throw new Error('month-encoder-worker.ts runs as a worker thread only');
port.on('message', (req: EncodeRequest) => {
  let reply: EncodeReply;
  try {
    const { data, bytes, sha256, rows } = encodeMonth(JIRA_TABLES[req.table], req.rows);
    // Only a buffer of its own is transferred (never a view into the WebAssembly memory).
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    reply = { id: req.id, data: own, bytes, sha256, rows };
  } catch (err) {
    reply = { id: req.id, error: (err as Error).message };
  }
  // The bytes move to the main thread without a copy.
  port.postMessage(reply, 'data' in reply ? [reply.data.buffer as ArrayBuffer] : []);
});
