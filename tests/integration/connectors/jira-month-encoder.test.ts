import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MonthEncoder } from '../../../connectors/jira/month-encoder.ts';
import { encodeParquet } from '../../../connectors/jira/parquet-month.ts';
import { JIRA_TABLES } from '../../../connectors/jira/tables.ts';
import type { IssueRows } from '../../../connectors/jira/tables.ts';
import { readParquet } from '../../helpers/parquet.ts';
import { niceOf, threadNices } from '../../helpers/threads.ts';

const ROWS = [
  { issue_key: 'A-2', comment_id: '20', author: 'Ada', author_id: 'u1', created: Date.UTC(2024, 2, 1), updated: null, body: 'second' },
  { issue_key: 'A-1', comment_id: '10', author: null, author_id: null, created: Date.UTC(2024, 2, 2), updated: Date.UTC(2024, 2, 3), body: 'first' },
];

/** Rows of one issue with comments (every other table empty). */
function issueRows(key: string, bodies: string[]): IssueRows {
  return {
    issues: [], attachments: [], changelog: [], issuelinks: [], remote_links: [],
    comments: bodies.map((body, i) => ({ issue_key: key, comment_id: `${key}-${i}`, author: null, author_id: null, created: null, updated: null, body })),
  };
}

describe('Jira month encoder', () => {
  it('keeps a month\'s rows in the thread: later calls send changed issues only, and a month it does not hold is sent whole', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ada-jira-encoder-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const encoder = new MonthEncoder();
    const month = new Map<string, IssueRows>([['A-10', issueRows('A-10', ['ten'])], ['A-9', issueRows('A-9', ['nine', 'nine again'])]]);
    let wholeCalls = 0;
    const whole = (): Array<[string, IssueRows]> => {
      wholeCalls++;
      return [...month];
    };
    const read = async (tables: Awaited<ReturnType<MonthEncoder['month']>>): Promise<unknown[][]> => {
      const comments = tables.find((x) => x.table === 'comments')!;
      assert.ok(comments.data, 'the comments have bytes');
      const file = path.join(dir, `comments-${comments.sha256}.parquet`);
      await writeFile(file, comments.data);
      return (await readParquet(file)).map((r) => [r.issue_key, r.body]);
    };
    // Not held yet: answered `missing`, then sent whole.
    const first = await encoder.month({ month: 'd\u00002024_03', reset: false, changes: [], tables: ['comments', 'issues'] }, whole);
    assert.equal(wholeCalls, 1);
    assert.deepEqual(await read(first), [['A-9', 'nine'], ['A-9', 'nine again'], ['A-10', 'ten']], 'issues in numeric key order');
    assert.deepEqual(first.find((x) => x.table === 'issues'), { table: 'issues', rows: 0, bytes: 0, sha256: '' }, 'an empty table has no bytes');
    // Held: only the change goes; a removed issue leaves the month.
    month.set('A-11', issueRows('A-11', ['eleven']));
    month.delete('A-9');
    const second = await encoder.month({ month: 'd\u00002024_03', reset: false, changes: [['A-11', month.get('A-11')!], ['A-9', null]], tables: ['comments'] }, whole);
    assert.equal(wholeCalls, 1, 'the month was not sent again');
    assert.deepEqual(await read(second), [['A-10', 'ten'], ['A-11', 'eleven']]);
    // Forgotten (a rebuild): sent whole again.
    encoder.forget('d\u0000');
    const third = await encoder.month({ month: 'd\u00002024_03', reset: false, changes: [], tables: ['comments'] }, whole);
    assert.equal(wholeCalls, 2);
    assert.deepEqual(await read(third), [['A-10', 'ten'], ['A-11', 'eleven']]);
    assert.equal(encoder.threaded, true);
  });

  it('encodes a month in its worker thread into Parquet that reads back as the rows', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ada-jira-encoder-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const encoder = new MonthEncoder();
    const [a, b] = await Promise.all([encoder.encode('comments', ROWS), encoder.encode('comments', ROWS.slice(0, 1))]);
    assert.equal(encoder.threaded, true, 'the worker thread ran (no fallback to this thread)');
    assert.deepEqual([a.rows, b.rows], [2, 1]);
    assert.equal(a.bytes, a.data.length);
    const file = path.join(dir, 'comments.parquet');
    await writeFile(file, a.data);
    const rows = await readParquet(file, { orderBy: 'comment_id' });
    assert.deepEqual(rows.map((r) => [r.issue_key, r.comment_id, r.author, r.body]), [['A-1', '10', null, 'first'], ['A-2', '20', 'Ada', 'second']]);
  });

  it('writes every column kind with its nulls, and text of any Unicode, as the rows hold them', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ada-jira-encoder-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const base = Object.fromEntries(JIRA_TABLES.issues.map((c) => [c.name, null]));
    const rows = [
      // A summary ending in the first half of a surrogate pair and the next row's starting with the second: each is
      // text of its own (one replacement character each), not one emoji split over two rows.
      { ...base, issue_key: 'U-1', summary: 'snow ☃ \ud83d', created: Date.UTC(2024, 0, 31, 23, 59, 59), sla_breached: true, sla_goal_ms: 3_600_000, labels: ['a', 'ß'] },
      { ...base, issue_key: 'U-2', summary: '\ude00 after', sla_breached: false, sla_goal_ms: -5, labels: [] },
      { ...base, issue_key: 'U-3', summary: '', description: '😀 emoji and Ελληνικά' },
    ];
    const file = path.join(dir, 'issues.parquet');
    await writeFile(file, encodeParquet(JIRA_TABLES.issues, rows));
    const back = await readParquet(file, { orderBy: 'issue_key' });
    assert.deepEqual(back.map((r) => [r.issue_key, r.summary, r.description, r.created, r.sla_breached, r.sla_goal_ms, r.labels, r.resolved]), [
      ['U-1', 'snow ☃ \ufffd', null, '2024-01-31 23:59:59', true, '3600000', ['a', 'ß'], null],
      ['U-2', '\ufffd after', null, null, false, '-5', [], null],
      ['U-3', '', '😀 emoji and Ελληνικά', null, null, null, [], null],
    ]);
  });

  it('encodes at a lower priority than the event loop (Linux: the worker thread\'s own nice value)', { skip: process.platform !== 'linux' }, async (t) => {
    const encoder = new MonthEncoder();
    await encoder.encode('comments', ROWS);
    assert.equal(encoder.threaded, true);
    const main = await niceOf(process.pid);
    if (main >= 10) {
      t.skip(`this process already runs at nice ${main}`);
      return;
    }
    const nices = await threadNices();
    assert.ok(nices.includes(10), `a thread runs at nice 10, the main thread at ${main} (nice values: ${nices.join(', ')})`);
  });

  it('runs its worker in a process that registered tsx in code, as `bin/ada.js` does from the sources', async () => {
    const encoderUrl = new URL('../../../connectors/jira/month-encoder.ts', import.meta.url).href;
    const script = `const { register } = await import('tsx/esm/api'); register();
const { MonthEncoder } = await import(${JSON.stringify(encoderUrl)});
const e = new MonthEncoder();
const m = await e.encode('comments', ${JSON.stringify(ROWS)});
console.log(JSON.stringify({ threaded: e.threaded, rows: m.rows }));`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`exited with ${code}`))));
    });
    assert.deepEqual(JSON.parse(out.trim()), { threaded: true, rows: 2 });
  });
});
