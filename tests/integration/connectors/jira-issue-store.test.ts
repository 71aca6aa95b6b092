import assert from 'node:assert/strict';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { IssueStore } from '../../../connectors/jira/issue-store.ts';
import type { MonthIssues, StoredIssue } from '../../../connectors/jira/issue-store.ts';

const MONTH = '2024_03';

function issue(key: string, updated: number, description = ''): StoredIssue {
  return {
    key, updated, fetched: 'api', attachments: [], issue: { key, fields: { description } },
    rows: { issues: [{ issue_key: key, description }], comments: [], attachments: [], changelog: [], issuelinks: [], remote_links: [] },
  };
}

async function dataDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ada-jira-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Key → updated of a month as read from the files (copied to a path no parsed month is cached for). */
async function keysOnDisk(t: TestContext, store: IssueStore, month: string): Promise<Record<string, number>> {
  const copy = await dataDir(t);
  await cp(store.root, new IssueStore(copy).root, { recursive: true });
  return Object.fromEntries([...(await new IssueStore(copy).load(month))].map(([k, v]) => [k, v.updated]).sort());
}

describe('Jira issue store', () => {
  it('appends only the changed issues to the month journal, and replays snapshot plus journal', async (t) => {
    const dir = await dataDir(t);
    const store = new IssueStore(dir);
    const month: MonthIssues = new Map([['A-1', issue('A-1', 1)], ['A-2', issue('A-2', 1)]]);
    await store.save(MONTH, month, ['A-1', 'A-2']);
    const journal = path.join(store.root, `${MONTH}.journal`);
    const first = (await stat(journal)).size;
    month.set('A-1', issue('A-1', 2));
    await store.save(MONTH, month, ['A-1']);
    const grown = (await stat(journal)).size - first;
    assert.ok(grown > 0 && grown < first, `one issue appended (${grown} bytes), not the month (${first})`);
    month.delete('A-2');
    await store.save(MONTH, month, ['A-2']);
    assert.deepEqual(await keysOnDisk(t, store, MONTH), { 'A-1': 2 });
    assert.deepEqual([...(await store.index())], [['A-1', MONTH]]);
  });

  it('skips a torn journal tail and keeps appending after it', async (t) => {
    const dir = await dataDir(t);
    const store = new IssueStore(dir);
    const month: MonthIssues = new Map([['A-1', issue('A-1', 1)]]);
    await store.save(MONTH, month, ['A-1']);
    const journal = path.join(store.root, `${MONTH}.journal`);
    // A crash cut an append in the middle of its record (and another left zeros).
    await appendFile(journal, '\n{"seq":2,"key":"A-9","issue":{"key":"A-9","upd');
    await appendFile(journal, Buffer.alloc(64));
    assert.deepEqual(await keysOnDisk(t, store, MONTH), { 'A-1': 1 });
    month.set('A-2', issue('A-2', 5));
    await store.save(MONTH, month, ['A-2']);
    assert.deepEqual(await keysOnDisk(t, store, MONTH), { 'A-1': 1, 'A-2': 5 });
  });

  it('folds a journal bigger than its snapshot into a new snapshot; a journal left by a crash after it is ignored', async (t) => {
    const dir = await dataDir(t);
    const store = new IssueStore(dir);
    const big = 'x'.repeat(40_000);
    const month: MonthIssues = new Map();
    for (let i = 1; i <= 10; i++) {
      month.set(`A-${i}`, issue(`A-${i}`, i, big));
      await store.save(MONTH, month, [`A-${i}`]);
    }
    const names = async (): Promise<string[]> => (await readdir(store.root)).sort();
    assert.deepEqual(await names(), [`${MONTH}.journal`, `${MONTH}.json`], 'the journal passed 256 KB: a snapshot was written');
    const snapshot = JSON.parse(await readFile(path.join(store.root, `${MONTH}.json`), 'utf8')) as { seq: number; issues: StoredIssue[] };
    assert.ok(snapshot.seq >= 6);
    const all = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`A-${i + 1}`, i + 1]).sort());
    assert.deepEqual(await keysOnDisk(t, store, MONTH), all);
    // A crash between the snapshot's rename and the journal's removal leaves lines the snapshot already holds.
    const stale = snapshot.issues.map((s) => JSON.stringify({ seq: snapshot.seq, key: s.key, issue: { ...s, updated: -1 } })).join('\n');
    const journal = path.join(store.root, `${MONTH}.journal`);
    await writeFile(journal, `\n${stale}\n${await readFile(journal, 'utf8')}`);
    assert.deepEqual(await keysOnDisk(t, store, MONTH), all);
  });

  it('writes a snapshot of many issues (serialised a few at a time) as JSON.stringify of the month', async (t) => {
    const dir = await dataDir(t);
    const store = new IssueStore(dir);
    const month: MonthIssues = new Map();
    for (let i = 100; i >= 1; i--) month.set(`A-${i}`, issue(`A-${i}`, i, 'y'.repeat(3_000)));
    await store.save(MONTH, month, month.keys());
    const text = await readFile(path.join(store.root, `${MONTH}.json`), 'utf8');
    assert.equal(text, JSON.stringify({ seq: 100, issues: [...month.values()].sort((a, b) => a.key.localeCompare(b.key)) }));
    assert.deepEqual(await keysOnDisk(t, store, MONTH), Object.fromEntries([...month.values()].map((i) => [i.key, i.updated])));
  });

  it('reads a month file of the format before journals (a bare array)', async (t) => {
    const dir = await dataDir(t);
    const store = new IssueStore(dir);
    await mkdir(store.root, { recursive: true });
    await writeFile(path.join(store.root, `${MONTH}.json`), JSON.stringify([issue('A-1', 3), issue('A-2', 4)]));
    assert.deepEqual(await keysOnDisk(t, store, MONTH), { 'A-1': 3, 'A-2': 4 });
    const month = await store.load(MONTH);
    month.set('A-1', issue('A-1', 7));
    await store.save(MONTH, month, ['A-1']);
    assert.deepEqual(await keysOnDisk(t, store, MONTH), { 'A-1': 7, 'A-2': 4 });
  });

  it('clear() forgets the months this process wrote, so a rebuild starts from nothing', async (t) => {
    const dir = await dataDir(t);
    const store = new IssueStore(dir);
    await store.save(MONTH, new Map([['A-1', issue('A-1', 1)]]), ['A-1']);
    assert.equal((await store.get(MONTH, 'A-1'))?.updated, 1);
    await store.clear();
    assert.equal(await store.get(MONTH, 'A-1'), undefined);
    assert.deepEqual([...(await store.index())], []);
  });

  it('an emptied month leaves no file', async (t) => {
    const dir = await dataDir(t);
    const store = new IssueStore(dir);
    const month: MonthIssues = new Map([['A-1', issue('A-1', 1)]]);
    await store.save(MONTH, month, ['A-1']);
    month.delete('A-1');
    await store.save(MONTH, month, ['A-1']);
    assert.deepEqual(await readdir(store.root), []);
    assert.deepEqual(await store.load(MONTH), new Map());
  });
});
