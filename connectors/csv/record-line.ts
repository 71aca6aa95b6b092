/** Maps a CSV record position (DuckDB counts records, not lines) to the physical line a text editor shows. */
import { createReadStream } from 'node:fs';
import type { CsvDialect } from './csv-dialect.ts';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The 1-based physical line on which record `recordNumber` (1-based, the header counting as record 1) starts.
 * DuckDB's error positions count blank lines as records (`countBlankLines`); row numbers of data read back do not.
 * Only for encodings where quote, escape and line breaks are single bytes (UTF-8, Latin-1); undefined otherwise or past the end.
 * Reads the file up to that record, so call it only on the error path.
 */
export async function physicalLineOfRecord(path: string, recordNumber: number, dialect: CsvDialect, countBlankLines: boolean): Promise<number | undefined> {
  if (dialect.encoding === 'utf-16' || recordNumber < 1) return undefined;
  const quote = dialect.quote === '' ? -1 : dialect.quote.charCodeAt(0);
  const escape = dialect.escape === '' ? -1 : dialect.escape.charCodeAt(0);
  let line = 1;
  let record = 0;
  let started = false;
  let inQuotes = false;
  let escaped = false;
  let previous = -1;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      // `\r\n` is one break; a lone `\r` or `\n` is one too.
      const isBreak = byte === NEWLINE ? previous !== CARRIAGE_RETURN : byte === CARRIAGE_RETURN;
      const isLineEnd = byte === NEWLINE || byte === CARRIAGE_RETURN;
      if (isLineEnd && !inQuotes) {
        if (!started && isBreak && countBlankLines) {
          record++;
          if (record === recordNumber) return line;
        }
        started = false;
      } else if (!started) {
        started = true;
        record++;
        if (record === recordNumber) return line;
      }
      if (escaped) {
        escaped = false;
      } else if (inQuotes) {
        if (byte === escape && escape !== quote) escaped = true;
        else if (byte === quote) inQuotes = false;
      } else if (byte === quote) {
        // A doubled quote inside a quoted field closes and reopens it, which leaves the state right.
        inQuotes = true;
      }
      if (isBreak) line++;
      previous = byte;
    }
  }
  return undefined;
}
