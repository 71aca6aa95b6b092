/** Decides a table's published schema from the previous one and the chunks of a run, under the table's schema policy. */
import type { TableConfig } from '../../../config/index.ts';
import type { ColumnSchema } from '../../../events/index.ts';
import { adaError } from '../../../events/index.ts';
import { normaliseDuckType, publishedType } from '../../column-types.ts';

/** How the published schema differs from the previous one. */
export interface SchemaChange {
  added: ColumnSchema[];
  dropped: ColumnSchema[];
  retyped: Array<{ name: string; from: string; to: string }>;
}

/** The schema to publish, and its difference from the previous one (undefined when nothing changed or on a first publish). */
export interface MergedSchema {
  schema: ColumnSchema[];
  change?: SchemaChange;
}

export interface MergeSchemaInput {
  table: Pick<TableConfig, 'name' | 'columns' | 'schemaPolicy'>;
  previous?: ColumnSchema[];
  /** The declared schema of each chunk, in chunk order. */
  chunks: ColumnSchema[][];
  mode: 'replace' | 'upsert';
}

/** Widenings that never lose information: the published column takes the wider type and old values are cast (a TIMESTAMP holds UTC). */
const SAFE_WIDENING = new Set(['BIGINT>DOUBLE', 'DATE>TIMESTAMP', 'DATE>TIMESTAMPTZ', 'TIMESTAMP>TIMESTAMPTZ']);

/** Code of every schema error; the published files stay as they were. */
export const SCHEMA_INCOMPATIBLE = 'SCHEMA_INCOMPATIBLE';

/** Prefix of the helper columns the publisher adds to its SQL; a source column may not use it. */
export const RESERVED_PREFIX = '__ada_';

/**
 * Merges the schemas. Columns are keyed by exact name; types are normalised to the published vocabulary.
 * - replace: the table becomes the chunks, so columns missing from them are dropped; column order is the chunks'.
 * - upsert: columns missing from the chunks stay (NULL for new rows) and are not a change; new columns are appended.
 * - A type differing from the previous one widens when safe (BIGINT→DOUBLE, DATE→TIMESTAMP), becomes VARCHAR only under
 *   `evolve`, otherwise throws SCHEMA_INCOMPATIBLE. A narrower incoming type (BIGINT into a DOUBLE column, anything into
 *   a VARCHAR column) is cast into the published type and is not a change.
 * - `freeze`: the chunks must have exactly the previous columns and types.
 * - No chunks at all (an empty export): the published schema stays; a first publish takes the declared columns.
 */
export function mergeSchema(input: MergeSchemaInput): MergedSchema {
  const { table, previous, mode } = input;
  const declared = new Map(table.columns.map((c) => [c.name, c.type]));
  const previousTypes = new Map((previous ?? []).map((c) => [c.name, normaliseDuckType(c.type)]));
  // An untyped or NULL-typed (all-null) chunk column takes its declared type, else its published one, so Parquet never holds a NULL type.
  const fallbackType = (name: string): string => {
    const d = declared.get(name);
    return d ? publishedType(d) : previousTypes.get(name) ?? 'VARCHAR';
  };
  const incoming = foldChunkSchemas(input, fallbackType);
  for (const column of incoming) {
    if (column.name.startsWith(RESERVED_PREFIX)) {
      throw adaError(SCHEMA_INCOMPATIBLE, `table ${table.name}: column ${column.name} uses the reserved prefix ${RESERVED_PREFIX}`, { table: table.name, column: column.name });
    }
  }
  const prev = previous?.map((c) => ({ ...c, type: normaliseDuckType(c.type) }));
  if (input.chunks.length === 0) {
    // A run without chunks (an empty export) keeps the published schema, or starts from the declared columns.
    return { schema: prev ?? table.columns.map((c) => withDescription({ name: c.name, type: publishedType(c.type) }, c.description)) };
  }
  if (!prev) return { schema: incoming };
  const prevByName = new Map(prev.map((c) => [c.name, c]));
  const inByName = new Map(incoming.map((c) => [c.name, c]));
  if (table.schemaPolicy === 'freeze') assertFrozen(table.name, prev, incoming, inByName);

  const change: SchemaChange = { added: [], dropped: [], retyped: [] };
  const resolve = (column: ColumnSchema): ColumnSchema => {
    const before = prevByName.get(column.name);
    if (!before) {
      change.added.push(column);
      return column;
    }
    const type = resolveType(table, column.name, before.type, column.type);
    if (type !== before.type) change.retyped.push({ name: column.name, from: before.type, to: type });
    return withDescription({ name: column.name, type }, column.description ?? before.description);
  };

  let schema: ColumnSchema[];
  if (mode === 'replace') {
    schema = incoming.map(resolve);
    change.dropped = prev.filter((c) => !inByName.has(c.name));
  } else {
    schema = prev.map((c) => { const next = inByName.get(c.name); return next ? resolve(next) : c; });
    schema.push(...incoming.filter((c) => !prevByName.has(c.name)).map(resolve));
  }
  const changed = change.added.length + change.dropped.length + change.retyped.length > 0;
  return changed ? { schema, change } : { schema };
}

/** The type a published column of type `from` takes when a chunk brings `to`; throws when that is not allowed. */
function resolveType(table: MergeSchemaInput['table'], column: string, from: string, to: string): string {
  if (from === to) return from;
  if (SAFE_WIDENING.has(`${from}>${to}`)) return to;
  if (SAFE_WIDENING.has(`${to}>${from}`) || from === 'VARCHAR') return from;
  if (table.schemaPolicy === 'evolve') return 'VARCHAR';
  const hint = to === 'VARCHAR' ? ' (a change to VARCHAR needs schema_policy: evolve)' : '';
  throw adaError(SCHEMA_INCOMPATIBLE, `table ${table.name}: column ${column} changed from ${from} to ${to}, which is not a safe widening${hint}; the published data was left as it was`, { table: table.name, column, from, to });
}

/** The union of the chunks' columns in order of first appearance, each with one type all chunks' values fit in. */
function foldChunkSchemas(input: MergeSchemaInput, fallbackType: (name: string) => string): ColumnSchema[] {
  const out = new Map<string, ColumnSchema>();
  for (const chunk of input.chunks) {
    for (const column of chunk) {
      const type = isUntyped(column.type) ? fallbackType(column.name) : normaliseDuckType(column.type.trim());
      const seen = out.get(column.name);
      if (!seen) {
        out.set(column.name, withDescription({ name: column.name, type }, column.description));
        continue;
      }
      if (seen.type !== type) out.set(column.name, { ...seen, type: commonChunkType(input.table, column.name, seen.type, type) });
    }
  }
  return [...out.values()];
}

/** A type values of both chunk types fit in; chunks of one run disagreeing is rare (a CSV glob), so the rules mirror resolveType. */
function commonChunkType(table: MergeSchemaInput['table'], column: string, a: string, b: string): string {
  if (SAFE_WIDENING.has(`${a}>${b}`)) return b;
  if (SAFE_WIDENING.has(`${b}>${a}`)) return a;
  if (a === 'VARCHAR' || b === 'VARCHAR' || table.schemaPolicy === 'evolve') return 'VARCHAR';
  throw adaError(SCHEMA_INCOMPATIBLE, `table ${table.name}: column ${column} is ${a} in one chunk and ${b} in another, which is not a safe widening`, { table: table.name, column, from: a, to: b });
}

function isUntyped(type: string): boolean {
  const t = type.trim().toUpperCase();
  return t === '' || t === 'NULL' || t === '"NULL"';
}

function assertFrozen(table: string, prev: ColumnSchema[], incoming: ColumnSchema[], inByName: Map<string, ColumnSchema>): void {
  const prevNames = new Set(prev.map((c) => c.name));
  const problems = [
    ...incoming.filter((c) => !prevNames.has(c.name)).map((c) => `column ${c.name} (${c.type}) was added`),
    ...prev.filter((c) => !inByName.has(c.name)).map((c) => `column ${c.name} (${c.type}) was dropped`),
    ...prev.flatMap((c) => {
      const next = inByName.get(c.name);
      return next && next.type !== c.type ? [`column ${c.name} changed from ${c.type} to ${next.type}`] : [];
    }),
  ];
  if (problems.length > 0) {
    throw adaError(SCHEMA_INCOMPATIBLE, `table ${table}: ${problems.join('; ')}, but the table declares schema_policy: freeze; the published data was left as it was`, { table, policy: 'freeze', problems });
  }
}

function withDescription(column: ColumnSchema, description: string | undefined): ColumnSchema {
  return description === undefined ? column : { ...column, description };
}
