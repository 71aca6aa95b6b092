/**
 * Reads DuckDB's CSV error messages. Facts relied on (DuckDB 1.5):
 * - reader errors start `CSV Error on Line: N`, where N counts records (the header is 1), not physical lines;
 * - a wrong field count says `Expected Number of Columns: 3 Found: 2`;
 * - a value that does not fit a column type says `Error when converting column "a". Could not convert string "x" to 'BIGINT'`;
 * - bad bytes say `Invalid unicode (byte sequence mismatch)`; an open quote at the end says `unterminated quote`;
 * - an interrupted query fails with `INTERRUPT Error`;
 * - mixed line endings (a CRLF file whose last line ends in LF) say `state machine reached an invalid state`, with no line;
 * - a record longer than `max_line_size` says `Maximum line size`, or `Parallel CSV Reader currently does not support a full
 *   read`, or even `unterminated quote` on a line near it: only a scan of the file tells (see record-scan.ts).
 * Our own SQL conversions raise `error()` with a marker built by `castFailureSql`.
 */
import { quoteLiteral } from '../../pipeline/sql/where-filters.ts';

export type DuckCsvProblem = 'field-count' | 'conversion' | 'encoding' | 'unterminated-quote' | 'line-too-long' | 'invalid-state' | 'interrupted' | 'other';

/** What a DuckDB error says about a CSV read. */
export interface DuckCsvError {
  problem: DuckCsvProblem;
  /** DuckDB's record-based line number. */
  record?: number;
  column?: string;
  value?: string;
  type?: string;
  expected?: number;
  found?: number;
  /** The first line of DuckDB's message, for problems we do not recognise. */
  summary: string;
}

const MARKER = 'ada-csv-cast|';

/** SQL raising an error that names the column and type, with the offending value (an expression) appended. */
export function castFailureSql(column: string, type: string, valueSql: string): string {
  return `error(${quoteLiteral(`${MARKER}${type}|${JSON.stringify(column)}|`)} || ${valueSql})`;
}

/** Classifies a DuckDB error message. */
export function parseDuckCsvError(message: string): DuckCsvError {
  const summary = (message.split('\n')[0] ?? message).trim();
  const recordMatch = /CSV Error on Line: (\d+)/.exec(message);
  const base: DuckCsvError = { problem: 'other', summary };
  if (recordMatch) base.record = Number(recordMatch[1]);
  const markerAt = message.indexOf(MARKER);
  if (markerAt !== -1) {
    const rest = message.slice(markerAt + MARKER.length);
    const m = /^([A-Z]+)\|("(?:[^"\\]|\\.)*")\|([\s\S]*)$/.exec(rest);
    if (m) {
      return { ...base, problem: 'conversion', type: m[1], column: JSON.parse(m[2] as string) as string, value: stripContext(m[3] as string) };
    }
  }
  if (/INTERRUPT Error/.test(message)) return { ...base, problem: 'interrupted' };
  const count = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  if (count) return { ...base, problem: 'field-count', expected: Number(count[1]), found: Number(count[2]) };
  const conversion = /Error when converting column "(.*)"\. Could not convert string "(.*)" to '([^']+)'/.exec(message);
  if (conversion) return { ...base, problem: 'conversion', column: conversion[1], value: conversion[2], type: conversion[3] };
  if (/Invalid unicode/i.test(message)) return { ...base, problem: 'encoding' };
  if (/unterminated quote/i.test(message)) return { ...base, problem: 'unterminated-quote' };
  if (/Maximum line size|Parallel CSV Reader currently does not support/i.test(message)) return { ...base, problem: 'line-too-long' };
  if (/state machine reached an invalid state/i.test(message)) return { ...base, problem: 'invalid-state' };
  return base;
}

/** DuckDB appends `LINE 1: <sql>` context to some errors; it is not part of the value. */
function stripContext(value: string): string {
  const at = value.indexOf('\n\nLINE ');
  return at === -1 ? value : value.slice(0, at);
}
