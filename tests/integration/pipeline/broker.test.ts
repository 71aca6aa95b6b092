import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { loadConfig } from '../../../connectors/index.ts';
import { EventLog } from '../../../events/index.ts';
import { ConnectorRegistry } from '../../../connectors/index.ts';
import { Broker, BrokerReader } from '../../../pipeline/index.ts';
import type { BrokerConnectorsFactory, BrokerLogger } from '../../../pipeline/index.ts';
import { readEvents } from '../../helpers/events.ts';
import { csvInstance, query } from '../../helpers/instance.ts';

const TABLES = `  - id: csv.shop.orders
    name: orders
    description: Orders
    file: orders.csv
  - id: csv.shop.customers
    name: customers
    description: Customers
    file: customers.csv
`;

const quiet: BrokerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function open(t: Parameters<typeof csvInstance>[0], logger = quiet): Promise<{ broker: Broker; dataDir: string }> {
  const inst = await csvInstance(t, TABLES);
  await inst.writeCsv('orders.csv', 'id\n1\n2\n');
  await inst.writeCsv('customers.csv', 'name\nAnn\n');
  const config = await loadConfig({ configDir: inst.configDir, env: {} });
  const broker = await Broker.open({ config, dataDir: inst.dataDir, connectors: (c) => new ConnectorRegistry(c), eventSource: 'test', logger });
  t.after(() => broker.close());
  return { broker, dataDir: inst.dataDir };
}

describe('the broker', () => {
  it('runs syncs asked at once one after the other, and brings projections up to date', async (t) => {
    const { broker, dataDir } = await open(t);
    const [a, b] = await Promise.all([broker.sync({ tables: ['orders'] }), broker.sync({ tables: ['customers', 'orders'] })]);
    assert.deepEqual(a.map((o) => [o.table, o.status, o.rows]), [['orders', 'succeeded', 2]]);
    // Tables run in their configured order, whatever order they were asked in.
    assert.deepEqual(b.map((o) => [o.table, o.status]), [['orders', 'succeeded'], ['customers', 'succeeded']]);
    const events = await readEvents(dataDir);
    const runs = events.filter((e) => e.type === 'SyncStarted' || e.type === 'SyncSucceeded').map((e) => `${e.type}:${(e.data as { table: string }).table}`);
    assert.deepEqual(runs, ['SyncStarted:orders', 'SyncSucceeded:orders', 'SyncStarted:orders', 'SyncSucceeded:orders', 'SyncStarted:customers', 'SyncSucceeded:customers']);
    const report = await broker.health();
    for (const name of ['parquet', 'catalog', 'sync-state', 'health', 'access']) assert.equal(report.checks.projections[name]?.lag, 0, name);
    assert.equal(report.checks.tables.orders?.freshness, 'fresh');
    await assert.rejects(broker.sync({ tables: ['nope'] }), { code: 'BAD_ARGUMENT', message: /unknown table nope; configured: orders, customers/ });
  });

  it('manages analysts and tokens through decisions recorded as events', async (t) => {
    const { broker } = await open(t);
    const added = await broker.analysts.add({ name: 'alice', role: 'analyst', email: 'alice@example.com' });
    assert.deepEqual(added, { name: 'alice', role: 'analyst', email: 'alice@example.com' });
    await assert.rejects(broker.analysts.add({ name: 'alice', role: 'analyst' }), { code: 'ANALYST_EXISTS' });
    const issued = await broker.analysts.issueToken('alice');
    assert.equal((await broker.authenticate(issued.token))?.name, 'alice');
    assert.deepEqual(await broker.analysts.revokeTokens('alice'), { name: 'alice', revoked: [issued.tokenId] });
    assert.equal(await broker.authenticate(issued.token), undefined);
    assert.deepEqual((await broker.analysts.list()).map((m) => m.name), ['alice']);
    assert.deepEqual(await broker.analysts.remove('alice'), { name: 'alice', revokedTokens: 0 });
    assert.deepEqual(await broker.analysts.list(), []);
  });

  it('replays projections by name and refuses unknown ones', async (t) => {
    const { broker } = await open(t);
    await broker.sync();
    const seen: string[] = [];
    const results = await broker.replay(['catalog', 'health'], (name) => seen.push(name));
    assert.deepEqual(results.map((r) => r.projection), ['catalog', 'health']);
    assert.ok(results.every((r) => r.position === broker.log.head), 'rebuilt up to the head');
    assert.deepEqual([...new Set(seen)], ['catalog', 'health']);
    await assert.rejects(broker.replay(['nope']), { code: 'BAD_ARGUMENT' });
    assert.deepEqual(broker.projectionNames(), ['parquet', 'catalog', 'sync-state', 'timers', 'health', 'access', 'manifest', 'profiler']);
  });

  it('started, arms timers and records health changes; closed, releases the log for the next writer', async (t) => {
    const lines: string[] = [];
    const { broker, dataDir } = await open(t, { info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) });
    await broker.start();
    assert.ok(lines.some((l) => /^timer source:csv: /.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^health: /.test(l)), lines.join('\n'));
    const reader = new BrokerReader(dataDir);
    assert.equal((await reader.writer())?.pid, process.pid, 'the reader tells who holds the log');
    await broker.close();
    await broker.close();
    assert.equal(await reader.writer(), undefined);
    const events = await lastValueFrom(reader.events.read$(1, { types: ['HealthChanged'] }).pipe(toArray()));
    assert.equal(events.length, 1);
    const log = await EventLog.open(path.join(dataDir, 'events'), { logger: { warn: () => undefined } });
    await log.close();
  });

  it('started, a sync answers once its run is published; the other projections and health follow before the next run', async (t) => {
    const { broker, dataDir } = await open(t);
    await broker.start();
    const [first] = await broker.sync({ tables: ['orders'] });
    // Checked before anything else runs: the projections' catch-up needs file I/O, which no await above waited for.
    const manifestThen = broker.positionOf('manifest');
    const firstDone = broker.log.positionOfKey(`${first!.runId}:succeeded`)!;
    assert.equal(first!.status, 'succeeded');
    const published = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${path.join(dataDir, 'parquet', 'shop', 'orders.parquet')}')`);
    assert.deepEqual(published, [{ n: 2 }], 'the published file is in place when the sync answers');
    const events = await readEvents(dataDir);
    assert.ok(events.some((e) => e.type === 'TablePublished' && e.data.runId === first!.runId), 'TablePublished is in the log');
    assert.ok(manifestThen < firstDone, `the manifest (at ${manifestThen}) catches up with the run (${firstDone}) after the answer`);
    const [second] = await broker.sync({ tables: ['customers'] });
    const succeeded = events.find((e) => e.type === 'SyncSucceeded' && e.data.runId === first!.runId)!;
    const customersStarted = (await readEvents(dataDir)).find((e) => e.type === 'SyncStarted' && e.data.table === 'customers')!;
    assert.ok(customersStarted.position > succeeded.position);
    for (const name of ['catalog', 'manifest', 'health']) assert.ok(broker.positionOf(name) >= succeeded.position, `${name} caught up with the first run before the second answered`);
    await broker.close();
    const last = broker.log.positionOfKey(`${second!.runId}:succeeded`)!;
    for (const name of ['catalog', 'manifest', 'health', 'sync-state']) assert.ok(broker.positionOf(name) >= last, `${name} caught up with the last run once closed`);
  });

  it('recovers before a sync only when an earlier run did not succeed (or at the first sync, or after a replay)', async (t) => {
    const { broker, dataDir } = await open(t);
    const stray = path.join(dataDir, 'tmp', 'runs', 'orders-dead-run');
    const strayLeft = async (): Promise<boolean> => stat(stray).then(() => true, () => false);
    await mkdir(stray, { recursive: true });
    await broker.sync({ tables: ['orders'] });
    assert.equal(await strayLeft(), false, 'the first sync recovers: dead runs\' files are removed');
    await mkdir(stray, { recursive: true });
    await broker.sync({ tables: ['orders'] });
    assert.equal(await strayLeft(), true, 'after a run that succeeded, the next sync skips the recovery');
    await writeFile(path.join(path.dirname(dataDir), 'csv', 'orders.csv'), 'id\n1\n"2\n');
    const [failed] = await broker.sync({ tables: ['orders'] });
    assert.equal(failed!.status, 'failed');
    await writeFile(path.join(path.dirname(dataDir), 'csv', 'orders.csv'), 'id\n1\n2\n3\n');
    const [next] = await broker.sync({ tables: ['orders'] });
    assert.equal(next!.status, 'succeeded');
    assert.equal(await strayLeft(), false, 'after a failed run, the next sync recovers first');
    await mkdir(stray, { recursive: true });
    await broker.replay(['catalog']);
    await broker.sync({ tables: ['orders'] });
    assert.equal(await strayLeft(), false, 'after a replay, the next sync recovers first');
  });

  it('asks each source of a sync to prepare once, before its runs; a connector that cannot be made fails only its runs', async (t) => {
    const inst = await csvInstance(t, TABLES);
    await inst.writeCsv('orders.csv', 'id\n1\n2\n');
    await inst.writeCsv('customers.csv', 'name\nAnn\n');
    const config = await loadConfig({ configDir: inst.configDir, env: {} });
    const calls: string[] = [];
    let broken = false;
    // The registry, with each call of the CSV connector recorded; `broken` makes creating it fail.
    const connectors: BrokerConnectorsFactory = (c) => {
      const registry = new ConnectorRegistry(c);
      return {
        get: (source) => {
          if (broken) throw new Error('the CSV connector cannot be created');
          const real = registry.get(source)!;
          return {
            source,
            prepare: (tables) => {
              calls.push(`prepare ${tables.map((x) => x.name).join(',')}`);
              real.prepare?.(tables);
            },
            sync: (r) => {
              calls.push(`sync ${r.table.name}`);
              return real.sync(r);
            },
            close: () => real.close!(),
          };
        },
        healthChecks: (ctx) => registry.healthChecks(ctx),
        close: () => registry.close(),
      };
    };
    const broker = await Broker.open({ config, dataDir: inst.dataDir, connectors, eventSource: 'test', logger: quiet });
    t.after(() => broker.close());
    const outcomes = await broker.sync();
    assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'succeeded']);
    assert.deepEqual(calls, ['prepare orders,customers', 'sync orders', 'sync customers']);
    broken = true;
    const failed = await broker.sync({ tables: ['orders'] });
    assert.deepEqual(failed.map((o) => [o.status, o.error?.message]), [['failed', 'the CSV connector cannot be created']]);
  });

  it('the read-only side evaluates health from the files without the writer lock', async (t) => {
    const { broker, dataDir } = await open(t);
    await broker.sync({ tables: ['orders'] });
    const config = broker.config;
    const reader = new BrokerReader(dataDir);
    const connectors = new ConnectorRegistry(config);
    t.after(() => connectors.close());
    const report = await reader.health(config, connectors);
    assert.equal(report.checks.tables.orders?.freshness, 'fresh');
    assert.equal(report.checks.tables.customers?.freshness, 'never_synced');
    assert.ok(!('profiler' in report.checks.projections), 'the profiler is not lag-checked from a shell');
    assert.equal(report.checks.projections.catalog?.lag, 0);
  });
});
