/** Reads the first record of a CSV file (its header, or the width of a header-less file) without parsing the rest. */
import { open } from 'node:fs/promises';
import type { CsvDialect } from './csv-dialect.ts';

/** Bytes read per step while looking for the end of the first record. */
const READ_STEP = 64 * 1024;
/** A first record longer than this is not a header we can use (DuckDB's default max_line_size is 2 MB). */
export const MAX_FIRST_RECORD_BYTES = 8 * 1024 * 1024;

/** Why the first record could not be read. */
export type FirstRecordProblem = 'too-long' | 'unterminated-quote';

export type FirstRecord =
  | { ok: true; fields: string[] | undefined }
  | { ok: false; problem: FirstRecordProblem };

/**
 * The fields of the first record, `fields: undefined` for an empty file; a leading byte-order mark is skipped.
 * Bytes invalid in the encoding decode as U+FFFD (DuckDB reports bad bytes past the first record with their line).
 */
export async function readFirstRecord(path: string, dialect: CsvDialect): Promise<FirstRecord> {
  const handle = await open(path, 'r');
  try {
    let buffer = Buffer.alloc(0);
    while (true) {
      const chunk = Buffer.alloc(READ_STEP);
      const { bytesRead } = await handle.read(chunk, 0, READ_STEP, buffer.length);
      buffer = Buffer.concat([buffer, chunk.subarray(0, bytesRead)]);
      const eof = bytesRead === 0;
      const parsed = parseFirstRecord(decode(buffer, dialect, !eof), dialect, eof);
      if (parsed === 'unterminated-quote') return { ok: false, problem: parsed };
      if (parsed !== 'need-more') return { ok: true, fields: parsed };
      if (buffer.length > MAX_FIRST_RECORD_BYTES) return { ok: false, problem: 'too-long' };
    }
  } finally {
    await handle.close();
  }
}

function decode(buffer: Buffer, dialect: CsvDialect, stream: boolean): string {
  let label: string;
  let bytes = buffer;
  if (dialect.encoding === 'utf-16') {
    label = buffer[0] === 0xfe && buffer[1] === 0xff ? 'utf-16be' : 'utf-16le';
    if (stream && bytes.length % 2 === 1) bytes = bytes.subarray(0, bytes.length - 1);
  } else {
    label = dialect.encoding === 'latin-1' ? 'latin1' : 'utf-8';
  }
  // ignoreBOM: false strips a leading byte-order mark; `stream` holds back a multi-byte sequence cut at the read boundary.
  return new TextDecoder(label, { fatal: false, ignoreBOM: false }).decode(bytes, { stream });
}

/**
 * Splits the first record of `text` into fields (RFC 4180 quoting, a custom escape character).
 * Returns 'need-more' when the record may continue past the text read so far, and undefined for an empty input.
 */
export function parseFirstRecord(text: string, dialect: CsvDialect, eof: boolean): string[] | undefined | 'need-more' | 'unterminated-quote' {
  if (text.length === 0) return eof ? undefined : 'need-more';
  const { delimiter, quote, escape } = dialect;
  const fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (inQuotes) {
      if (escape !== '' && escape !== quote && ch === escape) {
        if (i + 1 >= text.length) return eof ? 'unterminated-quote' : 'need-more';
        field += text[i + 1];
        i += 2;
      } else if (ch === quote) {
        if (escape === quote && i + 1 >= text.length && !eof) return 'need-more';
        if (escape === quote && text[i + 1] === quote) {
          field += quote;
          i += 2;
        } else {
          inQuotes = false;
          i += 1;
        }
      } else {
        field += ch;
        i += 1;
      }
    } else if (!eof && i + delimiter.length > text.length && delimiter.startsWith(text.slice(i))) {
      return 'need-more';
    } else if (text.startsWith(delimiter, i)) {
      fields.push(field);
      field = '';
      i += delimiter.length;
    } else if (ch === '\n' || ch === '\r') {
      fields.push(field);
      return fields;
    } else if (quote !== '' && ch === quote && field === '') {
      inQuotes = true;
      i += 1;
    } else {
      field += ch;
      i += 1;
    }
  }
  if (!eof) return 'need-more';
  if (inQuotes) return 'unterminated-quote';
  fields.push(field);
  return fields;
}
