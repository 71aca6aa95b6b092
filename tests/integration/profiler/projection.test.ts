import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { profilerProjection, profileTables } from '../../../pipeline/projections/profiler/index.ts';
import type { ProfileOutcome, ProfilerOptions } from '../../../pipeline/projections/profiler/index.ts';
import { csvConfig, csvTable } from '../../helpers/csv-config.ts';
import { profilerSandbox } from './sandbox.ts';

const config = csvConfig('/csv', [csvTable({ name: 'orders', primaryKey: ['id'] }), csvTable({ name: 'customers', primaryKey: ['id'] })]);
const rows = (n: number, offset = 0): string => `SELECT CAST(i + ${offset} AS BIGINT) AS id, 'c' || (i % 3) AS kind FROM range(1, ${n + 1}) r(i)`;

describe('profiler projection', () => {
  it('profiles only the latest publish of a table and only configured tables', async (t) => {
    const box = await profilerSandbox(t);
    await box.publish('orders', rows(3), { contentHash: 'h1' });
    await box.publish('ghost', rows(2), { contentHash: 'g1' });
    await box.publish('orders', rows(7), { contentHash: 'h2' });
    await box.catchUp(config);
    const doc = await box.profiles();
    assert.deepEqual(Object.keys(doc.tables), ['orders'], 'ghost is not configured');
    assert.equal(doc.tables.orders!.row_count, 7);
    assert.equal(doc.tables.orders!.content_hash, 'h2');
    const profiled = await box.events('TableProfiled', 'TableProfileFailed');
    assert.deepEqual(profiled.map((e) => [e.type, e.key]), [['TableProfiled', 'profiled:orders:h2']], 'one profile, of the latest publish');

    // Nothing new: the next catch-up profiles nothing.
    await box.catchUp(config);
    assert.equal((await box.events('TableProfiled')).length, 1);
  });

  it('keeps the previous profile, marked stale, when the latest publish cannot be profiled (missing file)', async (t) => {
    const box = await profilerSandbox(t);
    await box.publish('orders', rows(5), { contentHash: 'h1' });
    await box.catchUp(config);
    const before = await box.profile('orders');
    assert.equal(before.stale, false);

    const second = await box.publish('orders', rows(6), { contentHash: 'h2' });
    await rm(path.join(box.dataDir, second.files[0]!.path));
    await box.catchUp(config);

    const after = await box.profile('orders');
    assert.equal(after.stale, true);
    assert.equal(after.content_hash, 'h1', 'the kept profile still describes the old publish');
    assert.equal(after.row_count, 5);
    assert.match(after.stale_reason ?? '', /^PROFILE_FILE_MISSING: file parquet\/shop\/orders\.parquet of table orders is missing/);
    assert.ok(!Number.isNaN(Date.parse(after.stale_since ?? '')));
    const { stale: _s, stale_reason: _r, stale_since: _since, ...rest } = after;
    const { stale: _s0, ...restBefore } = before;
    assert.deepEqual(rest, restBefore, 'nothing else of the old profile changes');

    const failed = await box.events('TableProfileFailed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.key, 'profile-failed:orders:h2');
    assert.deepEqual(failed[0]!.data, { table: 'orders', contentHash: 'h2', error: { code: 'PROFILE_FILE_MISSING', message: 'file parquet/shop/orders.parquet of table orders is missing', file: 'parquet/shop/orders.parquet' } });

    // profiles.json stays a valid document throughout.
    const doc = JSON.parse(await readFile(path.join(box.dataDir, 'metadata', 'profiles.json'), 'utf8')) as { version: number; tables: object };
    assert.equal(doc.version, 1);

    // A later good publish clears the stale mark.
    await box.publish('orders', rows(8), { contentHash: 'h3' });
    await box.catchUp(config);
    const fixed = await box.profile('orders');
    assert.deepEqual([fixed.stale, fixed.stale_reason, fixed.content_hash, fixed.row_count], [false, undefined, 'h3', 8]);
  });

  it('a corrupt Parquet file fails in DuckDB: old profile stale, TableProfileFailed with the reason', async (t) => {
    const box = await profilerSandbox(t);
    await box.publish('orders', rows(5), { contentHash: 'h1' });
    await box.catchUp(config);

    const second = await box.publish('orders', rows(6), { contentHash: 'h2' });
    const file = path.join(box.dataDir, second.files[0]!.path);
    // Same size as published (so it passes the size check), garbage content.
    await writeFile(file, Buffer.alloc((await stat(file)).size, 7));
    const warnings: string[] = [];
    await box.runner.catchUp(profilerProjection({ config, append: (e) => box.log.append(e), logger: { warn: (m) => warnings.push(m) } }));

    const after = await box.profile('orders');
    assert.deepEqual([after.stale, after.content_hash], [true, 'h1']);
    assert.match(after.stale_reason ?? '', /^PROFILE_FAILED: .*(parquet|Parquet|magic)/);
    const [failed] = await box.events('TableProfileFailed');
    assert.equal(failed?.type, 'TableProfileFailed');
    if (failed?.type === 'TableProfileFailed') assert.equal(failed.data.error.code, 'PROFILE_FAILED');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /table orders could not be profiled: \[PROFILE_FAILED\]/);
  });

  it('a table that never profiled gets no entry when it fails, only the event', async (t) => {
    const box = await profilerSandbox(t);
    await box.catchUp(config);
    const first = await box.publish('orders', rows(5), { contentHash: 'h1' });
    await rm(path.join(box.dataDir, first.files[0]!.path));
    await box.publish('customers', rows(2), { contentHash: 'c1' });
    await box.catchUp(config);
    const doc = await box.profiles();
    assert.deepEqual(Object.keys(doc.tables), ['customers']);
    assert.deepEqual((await box.events('TableProfileFailed')).map((e) => e.key), ['profile-failed:orders:h1']);
  });

  it('skips tables profiled on demand; a rebuild without earlier profiles profiles every table again', async (t) => {
    const box = await profilerSandbox(t);
    await box.catchUp(config);
    await box.publish('orders', rows(5), { contentHash: 'h1' });
    await box.log.append({ type: 'TableProfiled', v: 1, key: 'profiled:orders:h1', data: { table: 'orders', contentHash: 'h1', rows: 5, columns: 2, sampled: false, alerts: 0, durationMs: 1 } });
    await box.catchUp(config);
    await assert.rejects(readFile(path.join(box.dataDir, 'metadata', 'profiles.json')), { code: 'ENOENT' }, 'already profiled at h1: not again');

    await box.runner.rebuild(profilerProjection({ config, append: (e) => box.log.append(e) }));
    assert.equal((await box.profile('orders')).row_count, 5);
    assert.equal((await box.events('TableProfiled')).length, 1, 'the idempotency key keeps the log from recording it twice');
  });

  it('on shutdown (aborted) the waiting tables stay waiting for the next run', async (t) => {
    const box = await profilerSandbox(t);
    await box.catchUp(config);
    await box.publish('orders', rows(5), { contentHash: 'h1' });
    const controller = new AbortController();
    controller.abort();
    const aborted = profilerProjection({ config, append: (e) => box.log.append(e), signal: controller.signal });
    await box.runner.catchUp(aborted);
    assert.deepEqual(box.runner.stateOf(aborted).pending, ['orders']);
    assert.deepEqual(await box.events('TableProfiled', 'TableProfileFailed'), []);
    await box.publish('customers', rows(2), { contentHash: 'c1' });
    await box.catchUp(config);
    assert.deepEqual((await box.events('TableProfiled')).map((e) => e.key), ['profiled:orders:h1', 'profiled:customers:c1']);
  });

  it('while rebuilding, a publish whose files were replaced waits; the first flush after the rebuild records its failure', async (t) => {
    const box = await profilerSandbox(t);
    const first = await box.publish('orders', rows(5), { contentHash: 'h1' });
    await rm(path.join(box.dataDir, first.files[0]!.path));
    await box.catchUp(config);
    assert.deepEqual(await box.events('TableProfiled', 'TableProfileFailed'), [], 'first run is a rebuild: nothing recorded yet');
    assert.deepEqual(box.runner.stateOf(profilerProjection({ config, append: async () => undefined })).pending, ['orders']);

    await box.publish('customers', rows(2), { contentHash: 'c1' });
    await box.catchUp(config);
    assert.deepEqual((await box.events('TableProfiled', 'TableProfileFailed')).map((e) => e.key).sort(), ['profile-failed:orders:h1', 'profiled:customers:c1']);
  });

  describe('a rebuild keeps profiles whose inputs did not change', () => {
    /** Rebuilds the profiler projection; returns the outcomes of the tables it handled. */
    async function rebuild(box: Awaited<ReturnType<typeof profilerSandbox>>, options?: ProfilerOptions): Promise<ProfileOutcome[]> {
      const outcomes: ProfileOutcome[] = [];
      await box.runner.rebuild(profilerProjection({ config, append: (e) => box.log.append(e), ...(options ? { options } : {}), onProgress: (p) => p.outcome && outcomes.push(p.outcome) }));
      return outcomes;
    }
    const previousFile = (dataDir: string) => path.join(dataDir, 'metadata', 'profiles.previous.json');

    it('keeps an unchanged table\'s profile (not computed again) and computes a table whose files changed', async (t) => {
      const box = await profilerSandbox(t);
      await box.publish('orders', rows(5), { contentHash: 'h1' });
      await box.publish('customers', rows(3), { contentHash: 'c1' });
      await box.catchUp(config);
      const before = await box.profiles();
      assert.match(before.tables.orders!.inputs_hash ?? '', /^[0-9a-f]{64}$/);
      // Published again with other rows, not profiled yet: its previous profile is of other files.
      await box.publish('customers', rows(4), { contentHash: 'c2' });

      const outcomes = await rebuild(box);
      assert.deepEqual(outcomes.map((o) => [o.table, o.status, o.reused ?? false, o.engine !== undefined]).sort(), [['customers', 'profiled', false, true], ['orders', 'profiled', true, false]]);
      const after = await box.profiles();
      assert.deepEqual(after.tables.orders, before.tables.orders, 'the kept profile is the same entry, profiled_at included');
      assert.equal(after.tables.customers!.row_count, 4);
      assert.equal(after.tables.customers!.content_hash, 'c2');
      assert.notEqual(after.tables.customers!.inputs_hash, before.tables.customers!.inputs_hash);
      assert.deepEqual((await box.events('TableProfiled')).map((e) => e.key), ['profiled:orders:h1', 'profiled:customers:c1', 'profiled:customers:c2']);

      // The set-aside profiles serve the rebuild only: the next catch-up removes them.
      await stat(previousFile(box.dataDir));
      await box.catchUp(config);
      await assert.rejects(stat(previousFile(box.dataDir)), { code: 'ENOENT' });
    });

    it('computes again when the profiler settings change', async (t) => {
      const box = await profilerSandbox(t);
      await box.publish('orders', rows(5), { contentHash: 'h1' });
      await box.catchUp(config);
      const before = await box.profile('orders');
      const outcomes = await rebuild(box, { seed: 7 });
      assert.deepEqual(outcomes.map((o) => [o.table, o.status, o.reused ?? false, o.engine !== undefined]), [['orders', 'profiled', false, true]]);
      assert.notEqual((await box.profile('orders')).inputs_hash, before.inputs_hash);
      // Same settings again: kept.
      assert.deepEqual((await rebuild(box, { seed: 7 })).map((o) => o.reused), [true]);
    });

    it('computes again when the set-aside profiles are unreadable or damaged, and never fails for it', async (t) => {
      const box = await profilerSandbox(t);
      await box.publish('orders', rows(5), { contentHash: 'h1' });
      await box.catchUp(config);
      const file = path.join(box.dataDir, 'metadata', 'profiles.json');
      const doc = await box.profiles();

      await writeFile(file, '{ not json');
      assert.deepEqual((await rebuild(box)).map((o) => [o.status, o.reused ?? false]), [['profiled', false]]);

      const good = await box.profile('orders');
      await writeFile(file, JSON.stringify({ ...doc, tables: { orders: { ...good, columns: [null], alerts: 'x' } } }));
      assert.deepEqual((await rebuild(box)).map((o) => [o.status, o.reused ?? false]), [['profiled', false]]);
      assert.equal((await box.profile('orders')).row_count, 5);
      assert.deepEqual((await box.events('TableProfileFailed')), []);
    });

    it('profiling outside a rebuild (`ada profile`) always computes', async (t) => {
      const box = await profilerSandbox(t);
      const published = await box.publish('orders', rows(5), { contentHash: 'h1' });
      await box.catchUp(config);
      const previous = await box.profiles();
      const outcomes = await profileTables({
        dataDir: box.dataDir, config, append: (e) => box.log.append(e),
        tables: [{ ...published, publishedAt: new Date().toISOString() }],
      });
      assert.deepEqual(outcomes.map((o) => [o.status, o.reused ?? false, o.engine !== undefined]), [['profiled', false, true]]);
      assert.equal((await box.profile('orders')).inputs_hash, previous.tables.orders!.inputs_hash);
    });
  });
});
