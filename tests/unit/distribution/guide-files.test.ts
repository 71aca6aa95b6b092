import assert from 'node:assert/strict';
import { it } from 'node:test';
import { guideFiles, guideText } from '../../../ops/pull/index.ts';
import type { AnalystManifest } from '../../../pipeline/index.ts';

const file = (p: string, size: number, extra: { table?: string; dataset?: string } = {}) => ({ path: p, size, sha256: 'a'.repeat(64), version: 1, ...extra });

it('the guide lists non-table files by dataset under their deepest common folder, and tables\' files not at all', () => {
  const manifest: AnalystManifest = {
    format: 1, position: 9, analyst: { name: 'bob', role: 'analyst', datasets: ['jira', 'jira_attachments'] }, tables: [],
    files: [
      file('parquet/jira/attachments/2024_03.parquet', 100, { table: 'attachments' }),
      file('attachments/jira/ADA-1/1_a.pdf', 10, { dataset: 'jira_attachments' }),
      file('attachments/jira/ADA-2/2_b.txt', 5, { dataset: 'jira_attachments' }),
      file('attachments/jira/ADA-2/3_c.txt', 1, { dataset: 'jira_attachments' }),
      file('exports/x/y/only.csv', 7, { dataset: 'exports' }),
      file('docs/schema.yml', 3),
    ],
  };
  const groups = guideFiles(manifest);
  assert.deepEqual(groups, [
    { dataset: 'exports', folder: 'exports/x/y', files: 1, bytes: 7 },
    { dataset: 'jira_attachments', folder: 'attachments/jira', files: 3, bytes: 16 },
  ]);
  const text = guideText([], 'http://broker', 9, groups);
  assert.match(text, /`server\/attachments\/jira\/` — dataset `jira_attachments`: 3 file\(s\), 16 bytes/);
  assert.doesNotMatch(guideText([], 'http://broker', 9, []), /## Files/);
});
