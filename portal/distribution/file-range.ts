/** HTTP conditional and range requests of one file: `If-None-Match`, `If-Range`, a single `Range: bytes=` span. */

/** What to send of a file of `size` bytes. */
export type RangeDecision =
  | { kind: 'not-modified' }
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/** Request headers that matter here. */
export interface ConditionalHeaders {
  'if-none-match'?: string | undefined;
  'if-range'?: string | undefined;
  range?: string | undefined;
}

function etagMatches(header: string, etag: string): boolean {
  return header.split(',').map((s) => s.trim().replace(/^W\//, '')).some((t) => t === '*' || t === etag);
}

/**
 * Decides the answer to a GET of a file with a strong `etag`. Multi-range requests get the whole file
 * (allowed by RFC 9110 §14.2); a range that starts past the end is unsatisfiable.
 */
export function decideRange(headers: ConditionalHeaders, etag: string, size: number): RangeDecision {
  const inm = headers['if-none-match'];
  if (inm !== undefined && etagMatches(inm, etag)) return { kind: 'not-modified' };
  const range = headers.range;
  if (range === undefined) return { kind: 'full' };
  const ifRange = headers['if-range'];
  if (ifRange !== undefined && ifRange.trim() !== etag) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (end < start && m[2] !== '') return { kind: 'full' };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}
