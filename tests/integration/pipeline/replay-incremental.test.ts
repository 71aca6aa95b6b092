import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { ConnectorRegistry, loadConfig } from '../../../connectors/index.ts';
import { Broker } from '../../../pipeline/index.ts';
import type { BrokerLogger } from '../../../pipeline/index.ts';
import { readEvents } from '../../helpers/events.ts';
import { csvInstance } from '../../helpers/instance.ts';
import type { TestInstance } from '../../helpers/instance.ts';
import { queryRows } from '../../helpers/parquet.ts';

/** Three incremental tables over the same files: upsert by key, append (no key), and upsert by key split by month. */
const TABLES = ['lines', 'appended', 'monthly'].map((name) => `  - id: csv.shop.${name}
    name: ${name}
    description: Lines, ${name}
${name === 'appended' ? '' : '    primary_key: id\n'}    sync_strategy: incremental
${name === 'monthly' ? '    partition_by: day\n' : ''}    file: "lines/*.csv"
    columns:
      - {name: id, type: INTEGER}
      - {name: qty, type: INTEGER}
      - {name: day, type: DATE}
`).join('');

const quiet: BrokerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function open(inst: TestInstance, logger: BrokerLogger = quiet): Promise<Broker> {
  const config = await loadConfig({ configDir: inst.configDir, env: {} });
  return Broker.open({ config, dataDir: inst.dataDir, connectors: (c) => new ConnectorRegistry(c), eventSource: 'test', logger });
}

/** Every published file of the data directory, each with its rows in file order. */
async function published(dataDir: string): Promise<Record<string, unknown[]>> {
  const root = path.join(dataDir, 'parquet');
  const out: Record<string, unknown[]> = {};
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.parquet')).sort();
  for (const f of files) {
    out[f] = (await queryRows(`SELECT id, qty, day::VARCHAR AS day FROM read_parquet('${path.join(root, f)}')`)).map((r) => [r.id, r.qty, r.day]);
  }
  return out;
}

it('a replay folds an incremental history into one merge and rebuilds every table row for row as the live syncs left it', { timeout: 120_000 }, async (t) => {
  const inst = await csvInstance(t, TABLES);
  const syncs: string[] = [
    // The full refresh.
    'id,qty,day\n1,1,2024-01-01\n2,2,2024-01-02\n3,3,2024-02-01\n4,4,2024-02-02\n5,5,2024-03-01\n',
    // Updates, a new key, and a key twice in one run (its last row wins).
    'id,qty,day\n2,20,2024-01-02\n6,6,2024-03-02\n3,30,2024-02-01\n3,31,2024-02-01\n',
    // A key updated again, and keys moving to another month (they leave their old partition).
    'id,qty,day\n2,21,2024-01-02\n4,40,2024-03-03\n6,60,2024-01-03\n',
    // A row seen before, unchanged (the append table keeps both).
    'id,qty,day\n5,5,2024-03-01\n7,7,2024-04-01\n',
  ];
  const broker = await open(inst);
  try {
    for (const [i, csv] of syncs.entries()) {
      await inst.writeCsv(`lines/${i + 1}.csv`, csv);
      const outcomes = await broker.sync();
      assert.deepEqual(outcomes.map((o) => o.status), ['succeeded', 'succeeded', 'succeeded'], JSON.stringify(outcomes));
    }
    // The first file, changed: staged again whole, so its rows win over the later runs' rows of the same keys.
    await inst.writeCsv('lines/1.csv', `${syncs[0]}8,8,2024-04-02\n`);
    await broker.sync();
  } finally {
    await broker.close();
  }
  const events = await readEvents(inst.dataDir);
  const modes = events.flatMap((e) => (e.type === 'TableStagingCompleted' && e.data.table === 'lines' ? [e.data.mode] : []));
  assert.deepEqual(modes, ['replace', 'upsert', 'upsert', 'upsert', 'upsert'], 'one full refresh, then upserts to fold');

  const recorded = new Map<string, string>();
  for (const e of events) if (e.type === 'TablePublished') recorded.set(e.data.table, e.data.contentHash);

  const live = await published(inst.dataDir);
  assert.deepEqual(live['shop/lines.parquet']?.map((r) => (r as unknown[]).join(' ')), [
    '6 60 2024-01-03', '7 7 2024-04-01',
    '1 1 2024-01-01', '2 2 2024-01-02', '3 3 2024-02-01', '4 4 2024-02-02', '5 5 2024-03-01', '8 8 2024-04-02',
  ], 'the live upserts: the last run of a key wins');
  assert.equal(live['shop/appended.parquet']!.length, 5 + 4 + 3 + 2 + 6);
  assert.deepEqual(Object.keys(live).filter((f) => f.startsWith('shop/monthly/')), ['shop/monthly/2024_01.parquet', 'shop/monthly/2024_02.parquet', 'shop/monthly/2024_03.parquet', 'shop/monthly/2024_04.parquet']);

  // Everything the replay publishes comes from the rebuild: no published file or applied state is left to keep.
  await rm(path.join(inst.dataDir, 'parquet'), { recursive: true });
  await rm(path.join(inst.dataDir, 'metadata', 'published'), { recursive: true });
  const warnings: string[] = [];
  const again = await open(inst, { ...quiet, warn: (m) => warnings.push(m) });
  try {
    await again.replay(['parquet']);
  } finally {
    await again.close();
  }
  assert.deepEqual(await published(inst.dataDir), live);
  // The folded merge has other inputs than the last live one; the content hash depends on the rows only, so it agrees.
  assert.deepEqual(warnings.filter((m) => m.includes('content hash')), []);
  for (const name of ['lines', 'appended', 'monthly']) {
    const state = JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'published', `${name}.json`), 'utf8')) as { contentHash: string };
    assert.equal(state.contentHash, recorded.get(name), `${name}: the rebuilt content hash is the one the live syncs recorded`);
  }
});
