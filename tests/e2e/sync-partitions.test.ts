import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { csvInstance, query } from '../helpers/instance.ts';
import type { TestInstance } from '../helpers/instance.ts';

const EVENTS = `  - id: csv.shop.events
    name: events
    description: Events partitioned by month
    primary_key: id
    sync_strategy: incremental
    partition_by: ts
    partition_granularity: month
    file: "parts/*.csv"
    columns:
      - {name: id, type: INTEGER}
      - {name: ts, type: TIMESTAMP}
      - {name: label, type: STRING}
`;

const MONTHS = 12;
const PER_MONTH = 50;

/** Rows of 2024, PER_MONTH a month, ids growing with time (id = month * 1000 + n), as most tables' ids do. */
function initialCsv(): string {
  const lines = ['id,ts,label'];
  for (let m = 1; m <= MONTHS; m++) {
    for (let n = 0; n < PER_MONTH; n++) lines.push(`${m * 1000 + n},2024-${String(m).padStart(2, '0')}-${String(1 + (n % 28)).padStart(2, '0')} 10:00:00,m${m}n${n}`);
  }
  return `${lines.join('\n')}\n`;
}

interface Published {
  files: Array<{ path: string; rows: number; bytes: number; sha256: string; partition?: string }>;
  rows: number;
  contentHash: string;
  touchedPartitions?: string[];
}

async function published(inst: TestInstance): Promise<Published> {
  return JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'published', 'events.json'), 'utf8')) as Published;
}

async function sync(inst: TestInstance): Promise<void> {
  const r = await runCli(['sync', '--json', ...inst.flags]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
}

/** What identifies a file on disk beyond its bytes: a rewrite (temp file and rename) gives a new inode and mtime. */
async function identity(file: string): Promise<{ ino: number; mtimeMs: number; sha256: string }> {
  const s = await stat(file);
  return { ino: s.ino, mtimeMs: s.mtimeMs, sha256: await sha256Of(file) };
}

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Moves a file's access time a minute before its modification time, so the file system (relatime) moves it on the next read. */
async function backdateAccess(file: string): Promise<void> {
  const s = await stat(file);
  await utimes(file, new Date(s.mtimeMs - 60_000), s.mtime);
}

async function wasRead(file: string): Promise<boolean> {
  const s = await stat(file);
  return s.atimeMs > s.mtimeMs - 60_000 + 1;
}

/** True when this file system records reads in the access time (not mounted noatime). */
async function accessTimesWork(t: TestContext, dir: string): Promise<boolean> {
  const probe = path.join(dir, 'atime-probe');
  await writeFile(probe, 'x');
  await backdateAccess(probe);
  await readFile(probe);
  const works = await wasRead(probe);
  if (!works) t.diagnostic('this file system does not record access times: the "not opened" checks are skipped');
  return works;
}

const rowsOf = (inst: TestInstance): Promise<Array<Record<string, unknown>>> =>
  query(`SELECT id, strftime(ts, '%Y-%m-%d') AS day, label FROM read_parquet('${inst.dataDir}/parquet/shop/events/*.parquet') ORDER BY id`);

describe('ada sync: an incremental sync of a partitioned table touches only the partitions it changes', () => {
  it('rewrites the 2 changed months of 12, leaves the other files unopened and byte-identical, and a replay gives the same table', async (t) => {
    const inst = await csvInstance(t, EVENTS);
    await inst.writeCsv('parts/000-initial.csv', initialCsv());
    await sync(inst);
    const first = await published(inst);
    assert.equal(first.files.length, MONTHS);
    assert.equal(first.rows, MONTHS * PER_MONTH);
    const checkAccess = await accessTimesWork(t, inst.root);

    const before = new Map<string, Awaited<ReturnType<typeof identity>>>();
    for (const f of first.files) {
      const file = path.join(inst.dataDir, f.path);
      // Hashing reads the file, so it comes first; utimes rounds the modification time it sets, so that is taken after it.
      const sha256 = await sha256Of(file);
      await backdateAccess(file);
      const s = await stat(file);
      before.set(f.path, { ino: s.ino, mtimeMs: s.mtimeMs, sha256 });
    }
    // Updates of November and December rows (same ts, new label) and new ids in both months.
    await inst.writeCsv('parts/001-delta.csv', 'id,ts,label\n11003,2024-11-04 10:00:00,updated\n12010,2024-12-11 10:00:00,updated\n13000,2024-11-20 08:00:00,new\n13001,2024-12-31 23:59:59,new\n');
    await sync(inst);
    const second = await published(inst);
    assert.deepEqual(second.touchedPartitions, ['2024_11', '2024_12']);
    assert.equal(second.rows, MONTHS * PER_MONTH + 2);

    for (const f of second.files) {
      const file = path.join(inst.dataDir, f.path);
      const opened = await wasRead(file);
      const now = await identity(file);
      assert.equal(now.sha256, f.sha256, `${f.path}: the published state names the file's bytes`);
      if (f.partition === '2024_11' || f.partition === '2024_12') {
        assert.notEqual(now.ino, before.get(f.path)!.ino, `${f.path} was rewritten`);
        continue;
      }
      assert.deepEqual(now, before.get(f.path), `${f.path}: untouched partition keeps its inode, mtime and bytes`);
      if (checkAccess) assert.equal(opened, false, `${f.path}: untouched partition was not even opened`);
    }
    const manifest = JSON.parse(await readFile(path.join(inst.dataDir, 'parquet', 'shop', 'events', '_manifest.json'), 'utf8')) as { files: Array<{ partition: string; file: string; sha256: string; rows: number }>; rows: number };
    assert.deepEqual(manifest.files.map((f) => [f.partition, f.file, f.sha256, f.rows]), second.files.map((f) => [f.partition, path.basename(f.path), f.sha256, f.rows]));
    assert.equal(manifest.rows, second.rows);

    const rows = await rowsOf(inst);
    assert.equal(rows.length, MONTHS * PER_MONTH + 2);
    assert.deepEqual(rows.filter((r) => r.label === 'updated' || r.label === 'new').map((r) => [r.id, r.day, r.label]),
      [[11003, '2024-11-04', 'updated'], [12010, '2024-12-11', 'updated'], [13000, '2024-11-20', 'new'], [13001, '2024-12-31', 'new']]);

    // A row whose partition column moved (March to December): its key lies in March's key range, so March is read and rewritten without it.
    await inst.writeCsv('parts/002-move.csv', 'id,ts,label\n3007,2024-12-01 00:00:00,moved\n');
    await sync(inst);
    const third = await published(inst);
    assert.deepEqual(third.touchedPartitions, ['2024_03', '2024_12']);
    const moved = await query(`SELECT id, strftime(ts, '%Y_%m') AS month, label, filename FROM read_parquet('${inst.dataDir}/parquet/shop/events/*.parquet', filename = true) WHERE id = 3007`);
    assert.deepEqual(moved.map((r) => [r.month, r.label, path.basename(String(r.filename))]), [['2024_12', 'moved', '2024_12.parquet']]);

    const expected = await rowsOf(inst);
    const replay = await runCli(['replay', '--projection', 'parquet', ...inst.flags]);
    assert.equal(replay.code, 0, replay.stderr + replay.stdout);
    const replayed = await published(inst);
    assert.equal(replayed.contentHash, third.contentHash, 'the replay publishes the same content');
    assert.deepEqual(replayed.files.map((f) => [f.path, f.rows]), third.files.map((f) => [f.path, f.rows]));
    assert.deepEqual(await rowsOf(inst), expected);
    for (const f of replayed.files) assert.equal((await identity(path.join(inst.dataDir, f.path))).sha256, f.sha256);
  });
});
