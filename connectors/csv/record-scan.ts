/**
 * One streaming pass over a CSV file's bytes that finds its records the way an RFC 4180 reader does (breaks inside
 * quoted fields belong to the field): which line endings end the records, the first record longer than a limit, and
 * optionally a copy whose record breaks are all `\n`. Used on the error path only, where DuckDB's message says too little.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { CsvDialect } from './csv-dialect.ts';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** A line ending that ends a record. */
export type LineEnding = 'CRLF' | 'LF' | 'CR';

/** What the pass found. */
export interface RecordScan {
  /** The ending of the first record, if any record ends in a break. */
  firstEnding?: LineEnding;
  /** The first record ending in another style than the first: the physical line it ends on and its ending. */
  otherEnding?: { line: number; ending: LineEnding };
  /** The first record of more than `longerThan` bytes (delimiters and quotes included, its break not): its first line and size. */
  long?: { line: number; bytes: number };
}

/** Options of a pass: the byte limit of a record to report, and a file to write with every record break turned into `\n`. */
export interface RecordScanOptions {
  longerThan?: number;
  normaliseTo?: string;
}

/**
 * Scans `path`. Only for encodings whose quote, escape and line breaks are single bytes (UTF-8, Latin-1).
 * Quoted fields keep their bytes in the normalised copy, so values do not change, and each break stays one break, so
 * physical line numbers stay the same.
 */
export async function scanRecords(path: string, dialect: CsvDialect, options: RecordScanOptions = {}): Promise<RecordScan> {
  const quote = dialect.quote === '' ? -1 : dialect.quote.charCodeAt(0);
  const escape = dialect.escape === '' ? -1 : dialect.escape.charCodeAt(0);
  const out = options.normaliseTo === undefined ? undefined : createWriteStream(options.normaliseTo, { flags: 'wx' });
  const result: RecordScan = {};
  let line = 1;
  let recordLine = 1;
  let recordBytes = 0;
  let inQuotes = false;
  let escaped = false;
  let pendingCr = false;
  let previous = -1;
  const endRecord = (ending: LineEnding): void => {
    if (result.firstEnding === undefined) result.firstEnding = ending;
    else if (result.otherEnding === undefined && ending !== result.firstEnding) result.otherEnding = { line, ending };
    checkLength();
    line++;
    recordLine = line;
    recordBytes = 0;
  };
  const checkLength = (): void => {
    if (result.long === undefined && options.longerThan !== undefined && recordBytes > options.longerThan) result.long = { line: recordLine, bytes: recordBytes };
  };
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      const copy = out ? Buffer.allocUnsafe(chunk.length + 1) : undefined;
      let n = 0;
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i] as number;
        if (pendingCr) {
          pendingCr = false;
          endRecord(byte === NEWLINE ? 'CRLF' : 'CR');
          previous = -1;
          if (copy) copy[n++] = NEWLINE;
          if (byte === NEWLINE) continue;
        }
        if (!inQuotes && byte === CARRIAGE_RETURN) {
          pendingCr = true;
          continue;
        }
        if (!inQuotes && byte === NEWLINE) {
          endRecord('LF');
          previous = -1;
          if (copy) copy[n++] = NEWLINE;
          continue;
        }
        if (copy) copy[n++] = byte;
        recordBytes++;
        // Inside a quoted field `\r\n` is one line break, as are a lone `\r` or `\n`.
        if (inQuotes && (byte === CARRIAGE_RETURN || (byte === NEWLINE && previous !== CARRIAGE_RETURN))) line++;
        previous = byte;
        if (escaped) escaped = false;
        else if (inQuotes) {
          if (byte === escape && escape !== quote) escaped = true;
          else if (byte === quote) inQuotes = false;
        } else if (byte === quote) inQuotes = true;
      }
      if (out && copy && !out.write(copy.subarray(0, n))) await once(out, 'drain');
    }
    if (pendingCr) {
      endRecord('CR');
      if (out && !out.write('\n')) await once(out, 'drain');
    }
    checkLength();
  } finally {
    if (out) {
      out.end();
      await once(out, 'close');
    }
  }
  return result;
}
