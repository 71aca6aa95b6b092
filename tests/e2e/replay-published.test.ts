import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { ConnectorRegistry, loadConfig } from '../../connectors/index.ts';
import { hashFile } from '../../events/index.ts';
import { Broker, readProfiles } from '../../pipeline/index.ts';
import type { BrokerLogger, ManifestState, TableProfile } from '../../pipeline/index.ts';
import { runCliOk } from '../helpers/cli.ts';
import { readEventsOf } from '../helpers/events.ts';
import { csvInstance, query, shopTable } from '../helpers/instance.ts';
import type { TestInstance } from '../helpers/instance.ts';

const LINES = shopTable({ name: 'lines', description: 'Order lines, incremental', primaryKey: 'id', strategy: 'incremental', file: 'lines/*.csv', columns: { id: 'INTEGER', qty: 'INTEGER', day: 'DATE' } });

const quiet: BrokerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const publishedEvents = (dataDir: string) => readEventsOf(dataDir, 'TablePublished');

async function profileOf(inst: TestInstance, table: string): Promise<TableProfile> {
  const profile = (await readProfiles(inst.dataDir)).tables[table];
  assert.ok(profile, `a profile of ${table}`);
  return profile;
}

/** The analysts' manifest entries of a table, as the broker serves them, with each file's size and sha256 on disk. */
async function manifestFiles(inst: TestInstance, table: string): Promise<Array<{ path: string; size: number; sha256: string; onDisk: { bytes: number; sha256: string } | string }>> {
  const config = await loadConfig({ configDir: inst.configDir, env: {} });
  const broker = await Broker.open({ config, dataDir: inst.dataDir, connectors: (c) => new ConnectorRegistry(c), eventSource: 'test', logger: quiet });
  try {
    const state = await broker.stateOf<ManifestState>('manifest');
    const files = state.tables[table]?.files ?? [];
    return Promise.all(files.map(async (f) => ({
      path: f.path, size: f.size, sha256: f.sha256,
      onDisk: await hashFile(path.join(inst.dataDir, f.path)).then((h) => ({ bytes: h.bytes, sha256: h.sha256 }), (err: NodeJS.ErrnoException) => err.code ?? 'error'),
    })));
  } finally {
    await broker.close();
  }
}

it('a replay that rewrites a table\'s files records them: `ada profile` works and the manifest\'s sha256 and size match the files', async (t) => {
  const inst = await csvInstance(t, LINES);
  await inst.writeCsv('lines/1.csv', 'id,qty,day\n1,1,2024-01-05\n2,2,2024-02-05\n3,3,2024-03-05\n');
  await runCliOk(['sync', ...inst.flags]);
  await inst.writeCsv('lines/2.csv', 'id,qty,day\n2,20,2024-02-06\n4,4,2024-03-06\n');
  await runCliOk(['sync', ...inst.flags]);
  const live = await query(`SELECT id, qty, day::VARCHAR AS day FROM '${path.join(inst.dataDir, 'parquet', 'shop', 'lines.parquet')}' ORDER BY id`);
  const publishedBefore = (await publishedEvents(inst.dataDir)).length;

  // The table is now split by month: the replay writes other files than those the log announced.
  const description = path.join(inst.configDir, 'data_description.md');
  await writeFile(description, (await readFile(description, 'utf8')).replace('    file: "lines/*.csv"', '    partition_by: day\n    file: "lines/*.csv"'));
  await runCliOk(['replay', ...inst.flags]);

  const published = await publishedEvents(inst.dataDir);
  assert.equal(published.length, publishedBefore + 1, 'one TablePublished announces the rebuilt files');
  const last = published.at(-1)!;
  assert.deepEqual(last.data.files.map((f) => f.partition), ['2024_01', '2024_02', '2024_03']);
  assert.deepEqual(last.data.touchedPartitions, ['2024_01', '2024_02', '2024_03']);
  assert.equal(last.data.rows, 4);

  await runCliOk(['profile', '--json', ...inst.flags]);

  const files = await manifestFiles(inst, 'lines');
  assert.deepEqual(files.map((f) => f.path), last.data.files.map((f) => f.path));
  for (const f of files) assert.deepEqual(f.onDisk, { bytes: f.size, sha256: f.sha256 }, `${f.path}: the manifest describes the file on disk`);
  const glob = path.join(inst.dataDir, 'parquet', 'shop', 'lines', '*.parquet');
  assert.deepEqual(await query(`SELECT id, qty, day::VARCHAR AS day FROM '${glob}' ORDER BY id`), live);

  // Nothing moved since: a second replay records nothing, and keeps the profile `ada profile` computed.
  const profiled = await profileOf(inst, 'lines');
  await runCliOk(['replay', ...inst.flags]);
  assert.equal((await publishedEvents(inst.dataDir)).length, publishedBefore + 1);
  assert.deepEqual(await profileOf(inst, 'lines'), profiled, 'the same profile, profiled_at included');
  // `ada profile` always computes.
  await runCliOk(['profile', ...inst.flags]);
  assert.notEqual((await profileOf(inst, 'lines')).profiled_at, profiled.profiled_at);
});
