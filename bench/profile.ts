/**
 * Profiler benchmark: `profileTables` end to end (profiling process start-up, DuckDB passes, profiles.json, event)
 * on a generated 5M-row Parquet table (id, ts, category, amount, note) against a bare DuckDB `SUMMARIZE` of the same
 * file in the same run; with the default sampling and with the whole table profiled exactly. Peak RSS is the
 * profiling process's own (getrusage maxRSS, reported by it). `BENCH_SCALE` (default 1) scales the row count.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import type { TableConfig } from '../config/index.ts';
import { profileTables, PROFILER_DEFAULTS } from '../pipeline/projections/profiler/index.ts';
import type { ProfileOutcome, ProfilerOptions, TablePublish } from '../pipeline/projections/profiler/index.ts';
import { report, scratch, timed } from './util.ts';
import type { Figures } from './util.ts';

/** Goals of the figures (from the issue): `min` means at least, `max` at most. */
export const goals: Record<string, { min?: number; max?: number }> = {
  'profile.ratio': { max: 3 },
  'profile.peak_rss_mb': { max: 1024 },
  'profile.exact_peak_rss_mb': { max: 1024 },
};

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
if (!(SCALE > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
/** Rows of the generated table (5M at scale 1, about 95 MB of Parquet). */
const ROWS = Math.max(1000, Math.round(5_000_000 * SCALE));
/** Each case runs this many times; figures are medians. */
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
/** The ts column covers 60 months, 2021-01 to 2025-12, in seconds. */
const TS_SPAN_S = (Date.UTC(2026, 0, 1) - Date.UTC(2021, 0, 1)) / 1000;

const CATEGORIES = ['books', 'electronics', 'garden', 'toys', 'grocery', 'fashion', 'sports', 'beauty', 'home', 'auto', 'music', 'office'];
const ADJECTIVES = ['quick', 'late', 'fragile', 'bulk', 'gift', 'priority', 'returned', 'standard', 'express', 'partial'];
const NOUNS = ['delivery', 'order', 'parcel', 'shipment', 'pickup', 'refund', 'exchange', 'invoice'];

const list = (xs: string[]): string => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

/** Deterministic rows from `range()`: ids in order, ts growing with id, the rest from seeded hashes; 2 % of amounts and 5 % of notes null. */
function generateSql(rows: number, file: string): string {
  return `COPY (SELECT
      CAST(i AS BIGINT) AS id,
      TIMESTAMP '2021-01-01' + to_seconds(CAST(floor((i - 1) * (${TS_SPAN_S} / ${rows})) AS BIGINT)) AS ts,
      ${list(CATEGORIES)}[1 + CAST(hash(i, 1) % ${CATEGORIES.length} AS INTEGER)] AS category,
      CASE WHEN hash(i, 2) % 50 = 0 THEN NULL ELSE round(CAST(hash(i, 3) % 500000 AS DOUBLE) / 100, 2) END AS amount,
      CASE WHEN hash(i, 4) % 20 = 0 THEN NULL
        ELSE ${list(ADJECTIVES)}[1 + CAST(hash(i, 5) % ${ADJECTIVES.length} AS INTEGER)] || ' ' || ${list(NOUNS)}[1 + CAST(hash(i, 6) % ${NOUNS.length} AS INTEGER)]
          || ' ref ' || CAST(hash(i, 7) % 1000000 AS VARCHAR) || ' online' END AS note
    FROM range(1, ${rows + 1}) r(i)) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`;
}

const TABLE: TableConfig = {
  id: 'bench.events', name: 'events', description: 'Generated events', source: 'csv', primaryKey: ['id'], syncStrategy: 'full_refresh',
  incrementalWindowDays: 7, partitionGranularity: 'month', initialLoadChunkDays: 30, whereFilters: [], foreignKeys: [], folder: 'bench',
  bucket: 'bench', columns: [], private: false, schemaPolicy: 'strict', location: { file: 'bench/profile.ts', line: 1 },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function profileOnce(dataDir: string, table: TablePublish, options: ProfilerOptions): Promise<{ ms: number; outcome: ProfileOutcome }> {
  const { result, ms } = await timed(() => profileTables({ dataDir, config: { tables: [TABLE] }, tables: [table], append: async () => undefined, options }));
  const outcome = result[0];
  if (!outcome || outcome.status !== 'profiled') throw new Error(`profiling failed: ${JSON.stringify(outcome?.error)}`);
  return { ms, outcome };
}

/** Runs the benchmark and returns its figures. */
export async function run(): Promise<Figures> {
  const dir = await scratch('profile');
  const dataDir = path.join(dir, 'data');
  const rel = 'parquet/bench/events.parquet';
  const file = path.join(dataDir, rel);
  await mkdir(path.dirname(file), { recursive: true });

  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const generated = await timed(() => conn.run(generateSql(ROWS, file)));
  const bytes = (await stat(file)).size;
  const table: TablePublish = {
    table: 'events', folder: 'bench', strategy: 'full_refresh', files: [{ path: rel, rows: ROWS, bytes, sha256: 'bench' }],
    rows: ROWS, bytes, schema: [], contentHash: 'bench', publishedAt: new Date().toISOString(),
  };
  const tinyRel = 'parquet/bench/tiny.parquet';
  await conn.run(`COPY (SELECT * FROM read_parquet('${file}') LIMIT 10) TO '${path.join(dataDir, tinyRel)}' (FORMAT parquet)`);
  const tinyBytes = (await stat(path.join(dataDir, tinyRel))).size;
  const tiny: TablePublish = { ...table, table: 'tiny', files: [{ path: tinyRel, rows: 10, bytes: tinyBytes, sha256: 'tiny' }], rows: 10, bytes: tinyBytes };

  const summarize: number[] = [];
  const sampled: number[] = [];
  const exact: number[] = [];
  const startup: number[] = [];
  let rss = 0;
  let exactRss = 0;
  let threads = 0;
  let sampleSize = 0;
  // Interleaved, so a busy moment of the machine hits every case alike.
  for (let r = 0; r < REPEAT; r++) {
    summarize.push((await timed(() => conn.runAndReadAll(`SUMMARIZE SELECT * FROM read_parquet('${file}')`))).ms);
    const s = await profileOnce(dataDir, table, {});
    sampled.push(s.ms);
    rss = Math.max(rss, s.outcome.engine?.peakRssMb ?? 0);
    threads = s.outcome.engine?.threads ?? 0;
    sampleSize = s.outcome.sampleSize ?? 0;
    const e = await profileOnce(dataDir, table, { sampleThreshold: Number.MAX_SAFE_INTEGER });
    exact.push(e.ms);
    exactRss = Math.max(exactRss, e.outcome.engine?.peakRssMb ?? 0);
    startup.push((await profileOnce(dataDir, tiny, {})).ms);
  }
  conn.closeSync();
  db.closeSync();

  const base = median(summarize);
  return [
    ['profile.rows', ROWS],
    ['profile.parquet_mb', bytes / 2 ** 20],
    ['profile.generate_ms', generated.ms],
    ['profile.sample_threshold', PROFILER_DEFAULTS.sampleThreshold],
    ['profile.sample_size', sampleSize],
    ['profile.threads', threads],
    ['profile.summarize_ms', base],
    ['profile.profile_ms', median(sampled)],
    ['profile.ratio', median(sampled) / base],
    ['profile.exact_ms', median(exact)],
    ['profile.exact_ratio', median(exact) / base],
    ['profile.startup_ms', median(startup)],
    ['profile.peak_rss_mb', rss],
    ['profile.exact_peak_rss_mb', exactRss],
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  report(await run());
}
