import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SyncOutcome } from '../../../pipeline/index.ts';
import { oneLine, progressLine, summaryTable } from '../../../ops/commands/sync.ts';

/** DuckDB's text for a CRLF file whose last line ends in LF, as it once reached the summary. */
const DUCKDB_MESSAGE = 'Invalid Input Error: The CSV Parser state machine reached an invalid state.\nThis can happen when is not possible to parse your CSV File with the given options, or the CSV File is not RFC 4180 compliant \nPossible fixes:\n* Disable the parser\'s strict mode\r\n\n  file = /tmp/x.csv\n\tdelimiter = ,\n';

function outcome(table: string, error?: { code: string; message: string }): SyncOutcome {
  return { table, runId: `${table}-run`, status: error ? 'failed' : 'succeeded', rows: 3, bytes: 1024, files: 1, durationMs: 12, ...(error ? { error } : {}) } as SyncOutcome;
}

describe('ada sync summary', () => {
  it('prints one line per table whatever the error message holds', () => {
    const text = summaryTable([outcome('orders', { code: 'SYNC_ERROR', message: DUCKDB_MESSAGE }), outcome('customers'), outcome('lines', { code: 'CSV_INVALID', message: 'x'.repeat(500) })]);
    const lines = text.split('\n');
    assert.equal(lines.length, 2 + 3, text);
    assert.match(lines[2]!, /^orders\s+FAILED\s.*\[SYNC_ERROR\] Invalid Input Error: The CSV Parser state machine reached an invalid state\. This can happen/);
    assert.match(lines[3]!, /^customers\s+ok/);
    assert.ok(lines[4]!.endsWith('…'));
    assert.ok(lines[4]!.length < 300);
  });

  it('keeps progress lines on one line', () => {
    const line = progressLine({ index: 1, total: 2, table: 'orders', phase: 'fetch', rows: 0, bytes: 0, message: 'a\nb' } as Parameters<typeof progressLine>[0]);
    assert.doesNotMatch(line, /\n/);
    assert.match(line, /a b$/);
  });

  it('oneLine collapses every kind of line break with its surrounding space', () => {
    assert.equal(oneLine(' a \r\n  b\rc\u2028d\te '), 'a b c d e');
  });
});
