import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MonthEncoder } from '../../../connectors/jira/month-encoder.ts';
import { readParquet } from '../../helpers/parquet.ts';

const ROWS = [
  { issue_key: 'A-2', comment_id: '20', author: 'Ada', author_id: 'u1', created: Date.UTC(2024, 2, 1), updated: null, body: 'second' },
  { issue_key: 'A-1', comment_id: '10', author: null, author_id: null, created: Date.UTC(2024, 2, 2), updated: Date.UTC(2024, 2, 3), body: 'first' },
];

describe('Jira month encoder', () => {
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
