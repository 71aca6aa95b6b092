import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnSchema } from '../../../events/index.ts';
import { foldRuns } from '../../../pipeline/projections/parquet/fold-runs.ts';
import type { FoldableRun } from '../../../pipeline/projections/parquet/fold-runs.ts';

const V1: ColumnSchema[] = [{ name: 'id', type: 'BIGINT' }, { name: 'qty', type: 'BIGINT' }];
const V2: ColumnSchema[] = [...V1, { name: 'note', type: 'VARCHAR' }];

let position = 0;
/** A logged run with one chunk per schema given, at increasing positions. */
function run(runId: string, mode: 'replace' | 'upsert', ...schemas: ColumnSchema[][]): FoldableRun {
  const chunks = schemas.map((schema, i) => ({ blob: { sha256: `${runId}-${i}`.padEnd(64, '0'), bytes: 1, format: 'parquet' as const }, rows: 1, schema, at: ++position, runId }));
  return { runId, mode, position: ++position, chunks };
}

const shape = (runs: ReturnType<typeof foldRuns>): Array<[string, string, string[], string[]]> =>
  runs.map((r) => [r.runId, r.mode, r.runIds, r.chunks.map((c) => c.runId)]);

describe('foldRuns', () => {
  it('folds the upserts after a full refresh into one upsert named by the last run, chunks in log order', () => {
    const runs = [run('r', 'replace', V1), run('u1', 'upsert', V1, V1), run('u2', 'upsert', V1), run('u3', 'upsert', V1)];
    const folded = foldRuns(runs);
    assert.deepEqual(shape(folded), [
      ['r', 'replace', ['r'], ['r']],
      ['u3', 'upsert', ['u1', 'u2', 'u3'], ['u1', 'u1', 'u2', 'u3']],
    ]);
    assert.equal(folded[1]!.position, runs[3]!.position, 'the folded run applies at its last run\'s position');
    assert.deepEqual(folded[1]!.chunks.map((c) => c.at), [...runs[1]!.chunks, ...runs[2]!.chunks, ...runs[3]!.chunks].map((c) => c.at));
  });

  it('never folds a replace, and starts a new group where the chunk schema changes', () => {
    const runs = [run('u1', 'upsert', V1), run('u2', 'upsert', V1), run('u3', 'upsert', V2), run('u4', 'upsert', V2), run('r', 'replace', V2), run('u5', 'upsert', V2)];
    assert.deepEqual(shape(foldRuns(runs)).map(([id, mode, ids]) => [id, mode, ids]), [
      ['u2', 'upsert', ['u1', 'u2']],
      ['u4', 'upsert', ['u3', 'u4']],
      ['r', 'replace', ['r']],
      ['u5', 'upsert', ['u5']],
    ]);
  });

  it('keeps a run whose own chunks disagree on the schema alone', () => {
    const runs = [run('u1', 'upsert', V1), run('mixed', 'upsert', V1, V2), run('u3', 'upsert', V1)];
    assert.deepEqual(shape(foldRuns(runs)).map(([id]) => id), ['u1', 'mixed', 'u3']);
  });

  it('does not modify its input', () => {
    const runs = [run('u1', 'upsert', V1), run('u2', 'upsert', V1)];
    const copy = structuredClone(runs);
    foldRuns(runs);
    assert.deepEqual(runs, copy);
  });
});
