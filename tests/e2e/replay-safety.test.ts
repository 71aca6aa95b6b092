import assert from 'node:assert/strict';
import { open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { hashFile } from '../../events/index.ts';
import type { RecordedEvent } from '../../events/index.ts';
import { runCli, runCliOk } from '../helpers/cli.ts';
import { readEvents } from '../helpers/events.ts';
import { csvInstance, query, shopTable } from '../helpers/instance.ts';
import type { TestInstance } from '../helpers/instance.ts';

const TABLES = shopTable({ name: 'orders', description: 'Orders, refreshed whole', primaryKey: 'id', strategy: 'full_refresh', file: 'orders.csv', columns: { id: 'INTEGER', amount: 'INTEGER' } })
  + shopTable({ name: 'lines', description: 'Order lines, incremental', primaryKey: 'id', strategy: 'incremental', file: 'lines/*.csv', columns: { id: 'INTEGER', qty: 'INTEGER' } });

/** sha256 of every file under `parquet/`, by path. */
async function checksums(dataDir: string): Promise<Map<string, string>> {
  const root = path.join(dataDir, 'parquet');
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.set(path.relative(root, file), (await hashFile(file)).sha256);
  }
  return out;
}

/** Flips one byte in the blob a `TableChunkStaged` names, in place (the blob must not be a published file's hard link). */
async function corruptBlob(dataDir: string, sha256: string): Promise<void> {
  const file = path.join(dataDir, 'blobs', 'sha256', sha256.slice(0, 2), sha256);
  assert.equal((await stat(file)).nlink, 1, 'the blob is not linked into a published file');
  const fh = await open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, 100);
    byte[0] = byte[0]! ^ 0xff;
    await fh.write(byte, 0, 1, 100);
  } finally {
    await fh.close();
  }
}

function chunksOf(events: RecordedEvent[], table: string): Array<{ position: number; runId: string; sha256: string }> {
  return events.flatMap((e) => (e.type === 'TableChunkStaged' && e.data.table === table ? [{ position: e.position, runId: e.data.runId, sha256: e.data.blob.sha256 }] : []));
}

async function syncOk(inst: TestInstance, ...args: string[]): Promise<void> {
  await runCliOk(['sync', ...inst.flags, ...args]);
}

describe('ada replay never rolls back what is published', () => {
  it('a corrupt blob in a table\'s live history: every published file stays byte-identical, other tables are rebuilt, health names it, syncs go on, a full refresh recovers', async (t) => {
    const inst = await csvInstance(t, TABLES);
    await inst.writeCsv('orders.csv', 'id,amount\n1,10\n2,20\n');
    await inst.writeCsv('lines/1.csv', 'id,qty\n1,1\n2,2\n');
    await syncOk(inst);
    await inst.writeCsv('lines/2.csv', 'id,qty\n2,5\n3,3\n');
    await syncOk(inst);
    const [first] = chunksOf(await readEvents(inst.dataDir), 'lines');
    await corruptBlob(inst.dataDir, first!.sha256);

    const blobs = await runCli(['events', 'verify', '--blobs', '--json', '--data', inst.dataDir]);
    assert.equal(blobs.code, 1, blobs.stdout);
    const report = JSON.parse(blobs.stdout) as { ok: boolean; blobs: { bad: Array<{ position: number; table: string; runId: string; sha256: string; code: string }> } };
    assert.deepEqual(report.blobs.bad.map((b) => [b.position, b.table, b.runId, b.sha256, b.code]), [[first!.position, 'lines', first!.runId, first!.sha256, 'BLOB_CORRUPT']]);

    const before = await checksums(inst.dataDir);
    const replay = await runCli(['replay', '--projection', 'parquet', ...inst.flags]);
    assert.equal(replay.code, 1, replay.stdout + replay.stderr);
    assert.match(replay.stderr, new RegExp(`table lines: history broken at event ${first!.position} \\(blob ${first!.sha256}\\): \\[BLOB_CORRUPT\\]`));
    assert.deepEqual(await checksums(inst.dataDir), before, 'a failed replay leaves every published file byte-identical');

    // One table's broken history does not block the others: a lost orders file comes back, lines stays as published.
    await rm(path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet'));
    assert.equal((await runCli(['replay', '--projection', 'parquet', ...inst.flags])).code, 1);
    assert.deepEqual(await checksums(inst.dataDir), before);

    const health = await runCli(['health', '--json', ...inst.flags]);
    const checks = (JSON.parse(health.stdout) as { checks: { tables: Record<string, { status: string; historyBroken?: { position: number; blob: string } }> } }).checks;
    assert.equal(checks.tables.lines!.status, 'degraded');
    assert.deepEqual([checks.tables.lines!.historyBroken?.position, checks.tables.lines!.historyBroken?.blob], [first!.position, first!.sha256]);
    assert.equal(checks.tables.orders!.historyBroken, undefined);

    // The incremental table still syncs: its published files are intact.
    await inst.writeCsv('lines/3.csv', 'id,qty\n4,4\n');
    await syncOk(inst, '--table', 'lines');
    const linesFile = path.join(inst.dataDir, 'parquet', 'shop', 'lines.parquet');
    assert.deepEqual((await query(`SELECT id, qty FROM '${linesFile}' ORDER BY id`)).map((r) => [r.id, r.qty]), [[1, 1], [2, 5], [3, 3], [4, 4]]);

    // A forced full refresh starts the history anew (recorded), clears health, and the next replay succeeds.
    await syncOk(inst, '--table', 'lines', '--full-refresh');
    const events = await readEvents(inst.dataDir);
    assert.ok(events.some((e) => e.type === 'TableHistoryRestarted' && e.data.table === 'lines'));
    const healed = JSON.parse((await runCli(['health', '--json', ...inst.flags])).stdout) as { checks: { tables: Record<string, { historyBroken?: unknown }> } };
    assert.equal(healed.checks.tables.lines!.historyBroken, undefined);
    const afterRefresh = await checksums(inst.dataDir);
    await runCliOk(['replay', '--projection', 'parquet', ...inst.flags]);
    assert.deepEqual(await checksums(inst.dataDir), afterRefresh);
    assert.deepEqual((await query(`SELECT id, qty FROM '${linesFile}' ORDER BY id`)).map((r) => [r.id, r.qty]), [[1, 1], [2, 5], [3, 3], [4, 4]]);
  });

  it('reads a table\'s history only from its newest full refresh: a corrupt superseded blob is not even read', async (t) => {
    const inst = await csvInstance(t, TABLES);
    await inst.writeCsv('orders.csv', 'id,amount\n1,10\n2,20\n');
    await inst.writeCsv('lines/1.csv', 'id,qty\n1,1\n');
    await syncOk(inst);
    await inst.writeCsv('orders.csv', 'id,amount\n1,11\n3,30\n');
    await syncOk(inst, '--table', 'orders');
    const [old] = chunksOf(await readEvents(inst.dataDir), 'orders');
    await corruptBlob(inst.dataDir, old!.sha256);
    const before = await checksums(inst.dataDir);
    await rm(path.join(inst.dataDir, 'parquet', 'shop', 'lines.parquet'));

    await runCliOk(['replay', '--projection', 'parquet', ...inst.flags]);
    assert.deepEqual(await checksums(inst.dataDir), before, 'every file is back, byte for byte');
    assert.ok(!(await readEvents(inst.dataDir)).some((e) => e.type === 'TableHistoryBroken'));
  });
});
