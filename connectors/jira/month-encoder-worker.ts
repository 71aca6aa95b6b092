/**
 * The worker thread of `MonthEncoder`: encodes one month of one table, or applies a month's changes to the rows
 * it keeps (`MonthRows`) and encodes the tables asked for, per message, and sends the bytes back.
 */
import { parentPort } from 'node:worker_threads';
import { MonthRows } from './month-rows.ts';
import { encodeMonth } from './parquet-month.ts';
import { JIRA_TABLES } from './tables.ts';
import type { EncodeReply, EncodeRequest } from './month-encoder.ts';
import { lowerThisThreadsPriority } from './thread-source.ts';

const port = parentPort;
if (!port) throw new Error('month-encoder-worker.ts runs as a worker thread only');
const months = new MonthRows();

/**
 * Nice value of this thread (Linux: a thread has its own): encoding months can wait, the event loop answering
 * webhooks cannot. On two cores a pass's encoding burst competed with the loop for a core; at a lower priority it gets
 * what the loop leaves (about a tenth of a busy core at worst). Left as it is where a thread's id cannot be found.
 */
const ENCODING_NICE = 10;

lowerThisThreadsPriority(ENCODING_NICE);

/** Only a buffer of its own is transferred (never a view into the WebAssembly memory). */
const own = (data: Uint8Array): Uint8Array => (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice());

port.on('message', (req: EncodeRequest | { kind: 'forget'; prefix: string }) => {
  if (req.kind === 'forget') {
    months.forget(req.prefix);
    return;
  }
  let reply: EncodeReply;
  const transfer: ArrayBuffer[] = [];
  try {
    if (req.kind === 'table') {
      const { data, bytes, sha256, rows } = encodeMonth(JIRA_TABLES[req.table], req.rows);
      const bytesOwn = own(data);
      transfer.push(bytesOwn.buffer as ArrayBuffer);
      reply = { id: req.id, data: bytesOwn, bytes, sha256, rows };
    } else {
      const out = months.apply(req);
      if (out === 'missing') {
        reply = { id: req.id, missing: true };
      } else {
        const tables = out.map((t) => (t.data ? { ...t, data: own(t.data) } : t));
        for (const t of tables) if (t.data) transfer.push(t.data.buffer as ArrayBuffer);
        reply = { id: req.id, tables };
      }
    }
  } catch (err) {
    reply = { id: req.id, error: (err as Error).message };
  }
  // The bytes move to the main thread without a copy.
  port.postMessage(reply, transfer);
});
