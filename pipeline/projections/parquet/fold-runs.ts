/**
 * Folding a table's replayed history into fewer publishes: consecutive upserts become one upsert of all their chunks,
 * in log order, so a rebuild merges the published table once instead of once per sync.
 *
 * Why it is the same table: an upsert keeps, per primary key, the row of the latest chunk (then the latest row in
 * it) over the published one, and appends when the table has no key. Applying upserts U1…Un one by one or their
 * chunks concatenated as one run gives the same rows: a key's winner is its last occurrence either way, and a key a
 * later run moves to another partition leaves its old one either way. Row order matches too (surviving published rows,
 * then each run's surviving rows in log order). Only a schema change would fold differently (each run widens against
 * the schema before it), so a run whose chunks declare another schema starts a new group.
 */
import type { ColumnSchema } from '../../../events/index.ts';
import type { StagedChunk } from './writer.ts';

/** A chunk as the log names it: its run and the position of its `TableChunkStaged`. */
export interface LoggedChunk extends StagedChunk {
  at: number;
  runId: string;
}

/** A published run, as a rebuild reads it from the log. */
export interface FoldableRun {
  runId: string;
  mode: 'replace' | 'upsert';
  /** Position of the run's `TableStagingCompleted`. */
  position: number;
  chunks: LoggedChunk[];
}

/** A run to apply: one logged run, or consecutive upserts folded together (named by the last one, so the applied state is the last run's). */
export interface FoldedRun extends FoldableRun {
  /** The logged runs this run stands for, oldest first. */
  runIds: string[];
}

/**
 * Folds consecutive upserts with the same chunk schema into one upsert; a replace, and every upsert after a schema
 * change, starts a new run. The runs must be in log order.
 */
export function foldRuns(runs: readonly FoldableRun[]): FoldedRun[] {
  const out: FoldedRun[] = [];
  for (const run of runs) {
    const last = out.at(-1);
    if (run.mode === 'upsert' && last?.mode === 'upsert' && sameSchema(schemaOf(last.chunks), schemaOf(run.chunks))) {
      out[out.length - 1] = { ...last, runId: run.runId, position: run.position, chunks: [...last.chunks, ...run.chunks], runIds: [...last.runIds, run.runId] };
    } else {
      out.push({ ...run, chunks: [...run.chunks], runIds: [run.runId] });
    }
  }
  return out;
}

/** The one schema all chunks of a run declare; undefined when they differ (such a run folds with nothing). */
function schemaOf(chunks: readonly LoggedChunk[]): ColumnSchema[] | undefined {
  const [first, ...rest] = chunks;
  if (!first) return undefined;
  return rest.every((c) => sameSchema(c.schema, first.schema)) ? first.schema : undefined;
}

function sameSchema(a: ColumnSchema[] | undefined, b: ColumnSchema[] | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return a.every((c, i) => c.name === b[i]?.name && c.type === b[i]?.type);
}
