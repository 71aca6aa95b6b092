/**
 * Computes a table's statistics from its Parquet files with DuckDB SQL, in a few passes: one aggregate over all
 * rows (counts, nulls, distinct values, min/max, mean, stddev, zeros, lengths, booleans, primary-key duplicates),
 * one over the profiled rows (quantiles, histograms, top values), and one over a 1,000-row peek (sample values and
 * rows). A table above the sample threshold is profiled on a seeded reservoir sample; its first pass still reads
 * every row, with approximate distinct counts. Runs inside the profiling process.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier, quoteLiteral } from '../../sql/where-filters.ts';
import { categoryOf } from './column-category.ts';
import { binIndexSql, binWidth, formatEpoch, histogramBins } from './histogram.ts';
import type { ColumnCategory, ColumnProfile, ComputedProfile, DateRange, HistogramBin, ProfileJob, TopValue } from './types.ts';

/** Percentiles reported for numeric columns, with the median. */
const QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;
/** Top values listed per low-cardinality string column (UPSTREAM.md: top-10 when ≤ 50 distinct). */
export const TOP_VALUES = 10;
export const TOP_VALUES_MAX_DISTINCT = 50;
/** Sample values per column and sample rows per table (UPSTREAM.md: 5). */
export const SAMPLE_VALUES = 5;
export const SAMPLE_ROWS = 5;
/** Rows of the peek the samples are drawn from: enough for five distinct values of most columns, cheap to read. */
const PEEK_ROWS = 1000;
/** Longer strings in samples are cut, so one text column cannot bloat profiles.json. */
export const MAX_SAMPLE_CHARS = 200;
/** Significant digits kept of computed doubles (drops float noise such as 0.30150000000001453). */
const DIGITS = 12;
/**
 * Share of non-null values above which a sampled column's HyperLogLog estimate may hide a unique column (its error
 * is several percent); the sample's exact distinct count then decides.
 */
const MAYBE_UNIQUE = 0.8;

interface Column {
  name: string;
  type: string;
  category: ColumnCategory;
  /** Quoted identifier. */
  q: string;
  /** Alias prefix of the column's result fields. */
  a: string;
}

type Row = Record<string, unknown>;

function num(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  return Number(v);
}

/** A finite double as it is (min, max: values of the data), else null. */
function finite(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = num(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * A computed finite double (mean, percentile) without float noise: DIGITS significant digits, but always six
 * decimals past the integer part, so large values (ids, epoch times) keep their precision; else null.
 */
function dbl(v: unknown): number | null {
  const n = finite(v);
  if (n === null || n === 0) return n;
  const integerDigits = Math.max(1, Math.floor(Math.log10(Math.abs(n))) + 1);
  return Number(n.toPrecision(Math.min(17, Math.max(DIGITS, integerDigits + 6))));
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function percent(part: number, whole: number): number {
  return whole > 0 ? round2((100 * part) / whole) : 0;
}

/** Parses DuckDB's `to_json` text, which writes NaN and ±Infinity bare; those become the strings "NaN", "Infinity", "-Infinity". */
export function parseDuckJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text);
  } catch {
    // Quote the bare tokens outside strings (a string may contain the same letters).
    let out = '';
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (inString) {
        out += ch;
        if (ch === '\\') out += text[++i] ?? '';
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      const token = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9))?.[1];
      if (token) {
        out += `"${token}"`;
        i += token.length - 1;
      } else {
        out += ch;
      }
    }
    return JSON.parse(out);
  }
}

/** Cuts long strings (anywhere in a value) to MAX_SAMPLE_CHARS. */
export function clip(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_SAMPLE_CHARS ? `${value.slice(0, MAX_SAMPLE_CHARS)}…` : value;
  if (Array.isArray(value)) return value.map(clip);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clip(v)]));
  return value;
}

async function one(conn: DuckDBConnection, sql: string): Promise<Row> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS()[0] ?? {};
}

function select(fields: Array<[string, string]>, from: string): string {
  return `SELECT ${fields.map(([alias, expr]) => `${expr} AS ${quoteIdentifier(alias)}`).join(', ')} FROM ${from}`;
}

/** DuckDB `histogram()` result (a MAP, read as key/value entries) as a Map. */
function entries<K>(v: unknown): Map<K, number> {
  const out = new Map<K, number>();
  if (Array.isArray(v)) for (const e of v as Array<{ key: K; value: unknown }>) out.set(e.key, num(e.value));
  return out;
}

/** The ten most frequent values, ties by value; percent of `nonNull`. */
export function topValues(counts: ReadonlyMap<string, number>, nonNull: number): TopValue[] {
  return [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).slice(0, TOP_VALUES)
    .map(([value, count]) => ({ value, count, percent: percent(count, nonNull) }));
}

/**
 * The aggregate filter of a numeric column's statistics: FLOAT and DOUBLE may hold NaN and ±Infinity, which would
 * make min, max and mean meaningless and stddev_samp fail; they are left out (the filter costs ~10 %).
 */
function finiteFilter(c: Column): string {
  return /^(FLOAT|DOUBLE|REAL)$/i.test(c.type) ? ` FILTER (WHERE isfinite(${c.q}))` : '';
}

function emptyProfile(job: ProfileJob): ComputedProfile {
  const pk = new Set(job.primaryKey);
  const columns = job.schema.map((s): ColumnProfile => {
    const base = { name: s.name, type: s.type, null_count: 0, completeness: 100, unique_count: 0, unique_percent: 0, samples: [], is_primary_key: pk.has(s.name) };
    switch (categoryOf(s.type)) {
      case 'numeric': return { ...base, category: 'numeric', min: null, max: null, mean: null, median: null, stddev: null, p5: null, p25: null, p75: null, p95: null, zeros: 0, negatives: 0, histogram: [] };
      case 'string': return { ...base, category: 'string', min_length: null, max_length: null, avg_length: null };
      case 'date': return { ...base, category: 'date', earliest: null, latest: null, span_days: null, histogram: [] };
      case 'boolean': return { ...base, category: 'boolean', true_count: 0, false_count: 0 };
      case 'other': return { ...base, category: 'other' };
    }
  });
  const hasKey = job.primaryKey.length > 0 && job.primaryKey.every((k) => job.schema.some((s) => s.name === k));
  return {
    row_count: 0, column_count: columns.length, sampled: false, sample_size: 0, avg_completeness: 100, missing_cells: 0,
    duplicate_primary_keys: hasKey ? 0 : null, null_primary_keys: hasKey ? 0 : null, date_range: null, sample_rows: [], columns,
  };
}

/** Profiles the table of `job` through `conn` (a fresh connection; the views and temp tables it creates are its own). */
export async function computeProfile(conn: DuckDBConnection, job: ProfileJob): Promise<ComputedProfile> {
  if (job.files.length === 0) return emptyProfile(job);
  const list = `[${job.files.map(quoteLiteral).join(', ')}]`;
  await conn.run(`CREATE OR REPLACE TEMP VIEW src AS SELECT * FROM read_parquet(${list}, union_by_name = true)`);
  const described = (await conn.runAndReadAll('DESCRIBE SELECT * FROM src')).getRowObjectsJS();
  const columns: Column[] = described.map((r, i) => {
    const name = String(r.column_name);
    const type = String(r.column_type);
    return { name, type, category: categoryOf(type), q: quoteIdentifier(name), a: `c${i}` };
  });
  // The footers' row count decides sampling before any pass reads the data.
  const rows = num((await one(conn, `SELECT coalesce(sum(num_rows), 0) AS n FROM parquet_file_metadata(${list})`)).n);
  const sampled = rows > job.sampleThreshold;
  const exact = !sampled;

  // Pass 1: every row.
  const pk = job.primaryKey.map((k) => columns.find((c) => c.name === k));
  const hasKey = pk.length > 0 && pk.every((c) => c !== undefined);
  const fields: Array<[string, string]> = [['n', 'count(*)']];
  for (const c of columns) {
    fields.push([`${c.a}_nn`, `count(${c.q})`], [`${c.a}_d`, exact ? `count(DISTINCT ${c.q})` : `approx_count_distinct(${c.q})`]);
    switch (c.category) {
      case 'numeric': {
        const x = `CAST(${c.q} AS DOUBLE)`;
        const only = finiteFilter(c);
        fields.push(
          [`${c.a}_min`, `min(${x})${only}`], [`${c.a}_max`, `max(${x})${only}`], [`${c.a}_avg`, `avg(${x})${only}`], [`${c.a}_sd`, `stddev_samp(${x})${only}`],
          [`${c.a}_z`, `count_if(${c.q} = 0)`], [`${c.a}_neg`, `count_if(${c.q} < 0)`],
        );
        break;
      }
      case 'string': {
        const len = `length(CAST(${c.q} AS VARCHAR))`;
        fields.push([`${c.a}_lmin`, `min(${len})`], [`${c.a}_lmax`, `max(${len})`], [`${c.a}_lavg`, `avg(${len})`]);
        break;
      }
      case 'date':
        fields.push(
          [`${c.a}_min`, `CAST(min(${c.q}) AS VARCHAR)`], [`${c.a}_max`, `CAST(max(${c.q}) AS VARCHAR)`],
          [`${c.a}_emin`, `epoch(CAST(min(${c.q}) AS TIMESTAMP))`], [`${c.a}_emax`, `epoch(CAST(max(${c.q}) AS TIMESTAMP))`],
        );
        break;
      case 'boolean':
        fields.push([`${c.a}_t`, `count_if(${c.q})`], [`${c.a}_f`, `count_if(NOT ${c.q})`]);
        break;
      case 'other':
        break;
    }
  }
  if (hasKey) {
    const keyCols = pk as Column[];
    const complete = keyCols.map((c) => `${c.q} IS NOT NULL`).join(' AND ');
    const key = keyCols.length === 1 ? keyCols[0]!.q : `row(${keyCols.map((c) => c.q).join(', ')})`;
    fields.push(['pk_n', `count(*) FILTER (WHERE ${complete})`], ['pk_d', `count(DISTINCT ${key}) FILTER (WHERE ${complete})`]);
  }
  const p1 = await one(conn, select(fields, 'src'));
  const total = num(p1.n);

  // Pass 2: the profiled rows (all, or the sample).
  let profiled = 'src';
  let sampleSize = total;
  if (sampled) {
    const pct = Math.min(100, (100 * job.sampleSize) / total);
    await conn.run(`CREATE OR REPLACE TEMP TABLE prof AS SELECT * FROM src USING SAMPLE ${pct} PERCENT (reservoir, ${Math.trunc(job.seed)})`);
    profiled = 'prof';
    sampleSize = num((await one(conn, 'SELECT count(*) AS n FROM prof')).n);
  }
  const nonNullOf = (c: Column): number => num(p1[`${c.a}_nn`]);
  const p2fields: Array<[string, string]> = [];
  for (const c of columns) {
    if (nonNullOf(c) === 0) continue;
    // Only a column HyperLogLog finds mostly distinct may be unique; its sample decides (see distinctOf).
    if (sampled && num(p1[`${c.a}_d`]) > nonNullOf(c) * MAYBE_UNIQUE) p2fields.push([`${c.a}_sn`, `count(${c.q})`], [`${c.a}_sd`, `count(DISTINCT ${c.q})`]);
    if (c.category === 'numeric') {
      const x = `CAST(${c.q} AS DOUBLE)`;
      const min = finite(p1[`${c.a}_min`]);
      const max = finite(p1[`${c.a}_max`]);
      const only = finiteFilter(c);
      p2fields.push([`${c.a}_pn`, `count(${x})${only}`], [`${c.a}_q`, `quantile_cont(${x}, [${QUANTILES.join(', ')}])${only}`]);
      if (min !== null && max !== null && max > min) p2fields.push([`${c.a}_h`, `histogram(${binIndexSql(x, min, binWidth(min, max))})${only}`]);
    } else if (c.category === 'date') {
      const x = `epoch(CAST(${c.q} AS TIMESTAMP))`;
      const min = finite(p1[`${c.a}_emin`]);
      const max = finite(p1[`${c.a}_emax`]);
      p2fields.push([`${c.a}_pn`, `count(${c.q})`]);
      if (min !== null && max !== null && max > min) p2fields.push([`${c.a}_h`, `histogram(${binIndexSql(x, min, binWidth(min, max))})`]);
    } else if (c.category === 'string' && num(p1[`${c.a}_d`]) <= TOP_VALUES_MAX_DISTINCT) {
      p2fields.push([`${c.a}_pn`, `count(${c.q})`], [`${c.a}_tv`, `histogram(CAST(${c.q} AS VARCHAR))`]);
    }
  }
  const p2 = p2fields.length > 0 && total > 0 ? await one(conn, select(p2fields, profiled)) : {};
  const distinctOf = (c: Column): number => {
    const nonNull = nonNullOf(c);
    const estimate = num(p1[`${c.a}_d`]);
    if (!sampled) return Math.min(estimate, nonNull);
    // HyperLogLog is off by several percent; the sample bounds it: at least the sample's distinct values, and at
    // most every value but the sample's repeats (a sample without repeats makes the column count as unique).
    if (p2[`${c.a}_sn`] === undefined) return Math.min(estimate, nonNull);
    const sampleNonNull = num(p2[`${c.a}_sn`]);
    const sampleDistinct = num(p2[`${c.a}_sd`]);
    const upper = nonNull - (sampleNonNull - sampleDistinct);
    return sampleNonNull > 0 && sampleDistinct === sampleNonNull ? nonNull : Math.max(sampleDistinct, Math.min(estimate, upper));
  };

  // Pass 3: sample values and rows from a small peek of the profiled rows.
  let samples: Row = {};
  if (total > 0) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE peek AS SELECT * FROM ${profiled} USING SAMPLE reservoir(${PEEK_ROWS} ROWS) REPEATABLE (${Math.trunc(job.seed)})`);
    const v = quoteIdentifier('__ada_v');
    const r = quoteIdentifier('__ada_row');
    const sampleFields: Array<[string, string]> = columns.map((c) => [
      `${c.a}_s`,
      `(SELECT to_json(list(${v} ORDER BY hash(${v}))) FROM (SELECT DISTINCT ${c.q} AS ${v} FROM peek WHERE ${c.q} IS NOT NULL ORDER BY hash(${v}) LIMIT ${SAMPLE_VALUES}))`,
    ]);
    sampleFields.push(['rows', `(SELECT to_json(list(${r})) FROM (SELECT * FROM peek LIMIT ${SAMPLE_ROWS}) ${r})`]);
    samples = await one(conn, `SELECT ${sampleFields.map(([alias, expr]) => `${expr} AS ${quoteIdentifier(alias)}`).join(', ')}`);
  }

  const keyNames = new Set(job.primaryKey);
  const profiles = columns.map((c): ColumnProfile => {
    const nonNull = nonNullOf(c);
    const distinct = distinctOf(c);
    const base = {
      name: c.name,
      type: c.type,
      null_count: total - nonNull,
      completeness: total > 0 ? percent(nonNull, total) : 100,
      unique_count: distinct,
      unique_percent: percent(distinct, nonNull),
      ...(exact ? {} : { unique_approximate: true as const }),
      samples: ((parseDuckJson(samples[`${c.a}_s`]) as unknown[] | null) ?? []).map(clip),
      is_primary_key: keyNames.has(c.name),
    };
    switch (c.category) {
      case 'numeric': {
        const q = (p2[`${c.a}_q`] as unknown[] | null | undefined) ?? [];
        const min = finite(p1[`${c.a}_min`]);
        const max = finite(p1[`${c.a}_max`]);
        const histogram: HistogramBin[] = min === null || max === null ? [] : histogramBins(min, max, entries<number>(p2[`${c.a}_h`]), { total: num(p2[`${c.a}_pn`]) });
        return {
          ...base, category: 'numeric', min, max, mean: dbl(p1[`${c.a}_avg`]), median: dbl(q[2]), stddev: dbl(p1[`${c.a}_sd`]),
          p5: dbl(q[0]), p25: dbl(q[1]), p75: dbl(q[3]), p95: dbl(q[4]), zeros: num(p1[`${c.a}_z`]), negatives: num(p1[`${c.a}_neg`]), histogram,
        };
      }
      case 'string': {
        const avg = dbl(p1[`${c.a}_lavg`]);
        const tv = p2[`${c.a}_tv`];
        return {
          ...base, category: 'string',
          min_length: nonNull > 0 ? num(p1[`${c.a}_lmin`]) : null, max_length: nonNull > 0 ? num(p1[`${c.a}_lmax`]) : null, avg_length: avg === null ? null : round2(avg),
          ...(tv !== undefined ? { top_values: topValues(entries<string>(tv), num(p2[`${c.a}_pn`])) } : {}),
        };
      }
      case 'date': {
        const emin = finite(p1[`${c.a}_emin`]);
        const emax = finite(p1[`${c.a}_emax`]);
        const kind = c.type.toUpperCase() === 'DATE' ? 'date' : 'timestamp';
        const histogram = emin === null || emax === null ? [] : histogramBins(emin, emax, entries<number>(p2[`${c.a}_h`]), { total: num(p2[`${c.a}_pn`]), label: (e) => formatEpoch(e, kind) });
        return {
          ...base, category: 'date',
          earliest: (p1[`${c.a}_min`] as string | null) ?? null, latest: (p1[`${c.a}_max`] as string | null) ?? null,
          span_days: emin === null || emax === null ? null : round2((emax - emin) / 86_400), histogram,
        };
      }
      case 'boolean':
        return { ...base, category: 'boolean', true_count: num(p1[`${c.a}_t`]), false_count: num(p1[`${c.a}_f`]) };
      case 'other':
        return { ...base, category: 'other' };
    }
  });

  const missing = profiles.reduce((n, c) => n + c.null_count, 0);
  return {
    row_count: total,
    column_count: profiles.length,
    sampled,
    sample_size: sampleSize,
    avg_completeness: profiles.length > 0 ? round2(profiles.reduce((s, c) => s + c.completeness, 0) / profiles.length) : 100,
    missing_cells: missing,
    duplicate_primary_keys: hasKey ? num(p1.pk_n) - num(p1.pk_d) : null,
    null_primary_keys: hasKey ? total - num(p1.pk_n) : null,
    date_range: dateRange(profiles, job.dateColumn),
    sample_rows: ((parseDuckJson(samples.rows) as Array<Record<string, unknown>> | null) ?? []).map((r) => clip(r) as Record<string, unknown>),
    columns: profiles,
  };
}

/** The table's date range: the preferred column when it is a date column with values, else the first such column. */
export function dateRange(columns: readonly ColumnProfile[], preferred?: string): DateRange | null {
  const dated = columns.filter((c): c is Extract<ColumnProfile, { category: 'date' }> => c.category === 'date' && c.earliest !== null && c.latest !== null);
  const c = dated.find((d) => d.name === preferred) ?? dated[0];
  if (!c || c.earliest === null || c.latest === null) return null;
  return { column: c.name, earliest: c.earliest, latest: c.latest, span_days: c.span_days ?? 0 };
}
