/** What the init wizard knows about the source's tables, whichever source they come from. */
import type { SetupTable } from '../../pipeline/index.ts';

/** A table of the source project (a Keboola table, or a CSV file), as its connector's setup discovered it. */
export type ProjectTable = SetupTable;

/** A column as the data description will list it. */
export type ProjectColumn = SetupTable['columns'][number];

/** A bucket of the source project with its number of tables. */
export interface ProjectBucket {
  id: string;
  tables: number;
  description?: string;
}

/** The bucket of a table id: the id without its last dot segment. */
export function bucketOfId(id: string): string {
  const dot = id.lastIndexOf('.');
  return dot === -1 ? '' : id.slice(0, dot);
}

/** Buckets of `tables`, sorted by id, with counts (plus `known` buckets that have no tables). */
export function bucketsOf(tables: readonly ProjectTable[], known: ReadonlyArray<{ id: string; description?: string }> = []): ProjectBucket[] {
  const byId = new Map<string, ProjectBucket>();
  for (const b of known) byId.set(b.id, { id: b.id, tables: 0, ...(b.description ? { description: b.description } : {}) });
  for (const t of tables) {
    const bucket = byId.get(t.bucket) ?? { id: t.bucket, tables: 0 };
    bucket.tables++;
    byId.set(t.bucket, bucket);
  }
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}
