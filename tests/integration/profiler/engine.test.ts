import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { NewEvent } from '../../../events/index.ts';
import { profileTables } from '../../../pipeline/projections/profiler/index.ts';
import type { ColumnProfile, ProfileOutcome, TablePublish, TableProfile } from '../../../pipeline/projections/profiler/index.ts';
import { ProfileWorker } from '../../../pipeline/projections/profiler/profile-worker.ts';
import { csvConfig, csvTable } from '../../helpers/csv-config.ts';
import { profilerSandbox } from './sandbox.ts';
import type { ProfilerSandbox } from './sandbox.ts';

const config = csvConfig('/csv', [csvTable({ name: 'big', primaryKey: ['id'] })]);
/** 1,000 rows: unique ids, four groups, val = id, note null on every tenth row. */
const BIG = `SELECT CAST(i AS BIGINT) AS id, 'g' || (i % 4) AS grp, CAST(i AS DOUBLE) AS val, CASE WHEN i % 10 = 0 THEN NULL ELSE 'n' || i END AS note
  FROM range(1, 1001) r(i)`;

async function publishBig(box: ProfilerSandbox, select = BIG): Promise<TablePublish> {
  const d = await box.publish('big', select);
  return { ...d, publishedAt: '2026-03-01T00:00:00.000Z' };
}

async function run(box: ProfilerSandbox, table: TablePublish, options: Parameters<typeof profileTables>[0]['options']): Promise<{ outcome: ProfileOutcome; events: NewEvent[]; profile?: TableProfile }> {
  const events: NewEvent[] = [];
  const [outcome] = await profileTables({ dataDir: box.dataDir, config, tables: [table], append: async (e) => events.push(e), options });
  const profile = (await box.profiles().catch(() => ({ tables: {} as Record<string, TableProfile> }))).tables.big;
  return { outcome: outcome!, events, ...(profile ? { profile } : {}) };
}

const col = (p: TableProfile, name: string): ColumnProfile => p.columns.find((c) => c.name === name)!;

describe('profiling engine', () => {
  it('samples a table above the threshold: marked, seeded, counts over all rows', async (t) => {
    const box = await profilerSandbox(t);
    const table = await publishBig(box);
    const { outcome, profile: p } = await run(box, table, { sampleThreshold: 100 });
    assert.equal(outcome.status, 'profiled');
    assert.ok(p);
    assert.deepEqual([p.sampled, p.sample_size, p.row_count], [true, 100, 1000]);
    assert.deepEqual([outcome.sampled, outcome.sampleSize], [true, 100]);
    // Pass 1 reads every row: null counts, min/max/mean and key duplicates are exact.
    const id = col(p, 'id');
    assert.equal(id.category, 'numeric');
    if (id.category === 'numeric') {
      assert.deepEqual([id.min, id.max, id.mean, id.null_count], [1, 1000, 500.5, 0]);
      assert.equal(id.histogram.reduce((n, b) => n + b.count, 0), 100, 'histogram counts are of the sample');
    }
    assert.deepEqual([id.unique_count, id.unique_percent, id.unique_approximate], [1000, 100, true], 'a sample without repeats makes the column unique');
    assert.equal(col(p, 'note').null_count, 100);
    assert.equal(p.duplicate_primary_keys, 0);
    const grp = col(p, 'grp');
    assert.equal(grp.unique_count, 4);
    if (grp.category === 'string') assert.equal(grp.top_values?.reduce((n, v) => n + v.count, 0), 100);
    assert.ok(col(p, 'note').unique_count <= 900);

    // The same seed gives the same sample.
    const again = await run(box, table, { sampleThreshold: 100 });
    const strip = (x: TableProfile): unknown => ({ ...x, profiled_at: 0, duration_ms: 0 });
    assert.deepEqual(strip(again.profile!), strip(p));

    const exact = await run(box, table, { sampleThreshold: 1000 });
    assert.deepEqual([exact.profile!.sampled, exact.profile!.sample_size], [false, 1000], 'at the threshold the table is profiled whole');
    assert.equal(exact.profile!.columns.every((c) => c.unique_approximate === undefined), true);
  });

  it('handles column names that need quoting', async (t) => {
    const box = await profilerSandbox(t);
    const table = await publishBig(box, `SELECT CAST(i AS BIGINT) AS "select", 'v' || (i % 2) AS "a ""quoted"" name", i AS "__ada_v", i % 3 = 0 AS "n" FROM range(1, 11) r(i)`);
    const { outcome, profile: p } = await run(box, table, {});
    assert.equal(outcome.status, 'profiled', JSON.stringify(outcome.error));
    assert.deepEqual(p!.columns.map((c) => [c.name, c.unique_count, c.samples.length]), [['select', 10, 5], ['a "quoted" name', 2, 2], ['__ada_v', 10, 5], ['n', 2, 2]]);
    assert.deepEqual(Object.keys(p!.sample_rows[0]!), ['select', 'a "quoted" name', '__ada_v', 'n']);
    const spill = await readdir(path.join(box.dataDir, 'tmp', 'duckdb', 'profiler'));
    assert.deepEqual(spill, [], 'the process\'s spill directory is removed when it exits');
  });

  it('applies the memory limit and threads in the profiling process; over the limit it fails with PROFILE_OUT_OF_MEMORY', async (t) => {
    const box = await profilerSandbox(t);
    const table = await publishBig(box, `SELECT CAST(i AS BIGINT) AS id, md5(CAST(i AS VARCHAR)) AS grp FROM range(1, 300001) r(i)`);
    const ok = await run(box, table, { memoryLimit: '64MB', threads: 1 });
    assert.equal(ok.outcome.status, 'profiled', JSON.stringify(ok.outcome.error));
    assert.deepEqual([ok.outcome.engine?.memoryLimit, ok.outcome.engine?.threads], ['61.0 MiB', 1], 'read back from DuckDB in the child');
    assert.ok(ok.outcome.engine!.peakRssMb > 0 && ok.outcome.engine!.peakRssMb < 1024);

    const oom = await run(box, { ...table, contentHash: 'other' }, { memoryLimit: '1MB' });
    assert.equal(oom.outcome.status, 'failed');
    assert.equal(oom.outcome.error?.code, 'PROFILE_OUT_OF_MEMORY');
    assert.match(oom.outcome.error?.message ?? '', /Out of Memory/i);
    assert.equal(oom.outcome.stale, true, 'the previous profile of other content is kept, stale');
    assert.equal(oom.profile?.stale, true);
    assert.deepEqual(oom.events.map((e) => [e.type, e.key]), [['TableProfileFailed', 'profile-failed:big:other']]);
  });

  it('a timeout kills the profiling process and the next job starts a new one', async (t) => {
    const box = await profilerSandbox(t);
    const table = await publishBig(box);
    const worker = new ProfileWorker({ memoryLimit: '256MB', threads: 1, tempDirectory: path.join(box.dataDir, 'tmp', 'duckdb', 'profiler') });
    t.after(() => worker.close());
    const job = { table: 'big', files: table.files.map((f) => path.join(box.dataDir, f.path)), schema: table.schema, primaryKey: ['id'], sampleThreshold: 500_000, sampleSize: 500_000, seed: 42 };

    await assert.rejects(worker.run(job, { timeoutMs: 1 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'PROFILE_TIMEOUT');
      assert.match(err.message, /took longer than 1 ms; its profiling process was stopped/);
      return true;
    });
    const first = await worker.run(job, { timeoutMs: 60_000 });
    assert.equal(first.profile.row_count, 1000);
    const pid = worker.pid;

    // Killed from outside (as the OOM killer would): the job fails, the broker does not.
    const running = worker.run(job, { timeoutMs: 60_000 });
    process.kill(pid!, 'SIGKILL');
    await assert.rejects(running, { code: 'PROFILE_CRASHED' });
    const after = await worker.run(job, { timeoutMs: 60_000 });
    assert.equal(after.profile.row_count, 1000);
    assert.notEqual(worker.pid, pid);

    const controller = new AbortController();
    const aborted = worker.run(job, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, { code: 'PROFILE_ABORTED' });
  });
});
