/** Equal-width histograms: the binning rule shared by the SQL that counts and the code that labels the bins. */
import type { HistogramBin } from './types.ts';

/** Bins per histogram (UPSTREAM.md: 15-bin histogram). */
export const HISTOGRAM_BINS = 15;

/** Width of `bins` equal bins over [min, max]; 0 when there is a single value. */
export function binWidth(min: number, max: number, bins = HISTOGRAM_BINS): number {
  return max > min ? (max - min) / bins : 0;
}

/** Index (0 … bins − 1) of the bin holding `x`; `max` falls in the last bin. Reference for `binIndexSql`. */
export function binIndex(x: number, min: number, width: number, bins = HISTOGRAM_BINS): number {
  if (width <= 0) return 0;
  return Math.min(Math.max(Math.floor((x - min) / width), 0), bins - 1);
}

/** A number as a DuckDB DOUBLE literal (JavaScript prints the shortest text that reads back as the same double). */
export function doubleLiteral(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  return `CAST(${String(n)} AS DOUBLE)`;
}

/**
 * SQL for the bin index of the DOUBLE expression `x`, the same rule as `binIndex`; NULL for NULL (DuckDB's
 * least/greatest skip NULLs, which would count missing values in the first bin, so the clamp is a CASE).
 */
export function binIndexSql(x: string, min: number, width: number, bins = HISTOGRAM_BINS): string {
  const v = `floor((${x} - ${doubleLiteral(min)}) / ${doubleLiteral(width)})`;
  return `CAST(CASE WHEN ${v} < 0 THEN 0 WHEN ${v} > ${bins - 1} THEN ${bins - 1} ELSE ${v} END AS INTEGER)`;
}

/**
 * Labels counted bins: `counts` maps a bin index to its count (as DuckDB's `histogram()` returns it); bins without
 * values count 0. With min = max there is one bin holding `total`. `label` turns an edge into what is shown.
 */
export function histogramBins(
  min: number, max: number, counts: ReadonlyMap<number, number>, opts: { bins?: number; total?: number; label?: (edge: number) => number | string } = {},
): HistogramBin[] {
  const bins = opts.bins ?? HISTOGRAM_BINS;
  const label = opts.label ?? ((edge: number) => edge);
  const width = binWidth(min, max, bins);
  if (width === 0) {
    const total = opts.total ?? [...counts.values()].reduce((a, b) => a + b, 0);
    return total > 0 ? [{ start: label(min), end: label(max), count: total }] : [];
  }
  return Array.from({ length: bins }, (_, i) => ({
    start: label(min + i * width),
    end: label(i === bins - 1 ? max : min + (i + 1) * width),
    count: counts.get(i) ?? 0,
  }));
}

/** An instant in epoch seconds as DuckDB prints it: `2024-01-05` for midnight of a DATE column, else `2024-01-05 10:00:00[.sss]`. */
export function formatEpoch(seconds: number, kind: 'date' | 'timestamp'): string {
  const iso = new Date(Math.round(seconds * 1000)).toISOString();
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 19);
  const ms = iso.slice(20, 23);
  if (kind === 'date' && time === '00:00:00' && ms === '000') return day;
  return `${day} ${time}${ms === '000' ? '' : `.${ms}`}`;
}
