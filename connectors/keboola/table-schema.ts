/**
 * A Keboola table's published schema: column types from metadata (`KBC.datatype.basetype`, then
 * `KBC.datatype.type`, by provider priority; a zoned backend type refines a TIMESTAMP basetype), descriptions from `KBC.description`, and the table config's
 * explicit `columns` over both.
 */
import type { TableConfig } from '../../config/index.ts';
import { adaError, ErrorCode } from '../../events/index.ts';
import { publishedType } from '../../pipeline/column-types.ts';
import type { PublishedType } from '../../pipeline/column-types.ts';
import type { TableWithMetadata } from './client.ts';
import type { MetadataEntry, TableDetail } from './storage-api-types.ts';

/** Metadata keys that carry a column's type, in priority order. */
export const TYPE_KEYS = ['KBC.datatype.basetype', 'KBC.datatype.type'] as const;
/** The metadata key of table and column descriptions. */
export const DESCRIPTION_KEY = 'KBC.description';
/** Providers in priority order; any other provider (a component id, `system`, …) ranks after them. */
export const PROVIDER_PRIORITY = ['user', 'ai-metadata-enrichment', 'transformation', 'storage'] as const;

/** Backend type names Keboola reports that the shared mapping does not know, and what they mean. */
const TYPE_ALIASES: Record<string, string> = { TIMESTAMP_LTZ: 'TIMESTAMP_TZ' };

/** One published column and where its type came from. */
export interface PlannedColumn {
  name: string;
  type: PublishedType;
  description?: string;
  /** The declared or metadata type as written (e.g. `NUMERIC`), absent when defaulted to STRING. */
  sourceType?: string;
  /** `config`, a metadata key (`KBC.datatype.basetype`), `definition` (a typed table), or `default`. */
  typeFrom: string;
  /** The metadata provider of the type. */
  provider?: string;
}

/** The rank of a provider: lower wins. */
export function providerRank(provider: string): number {
  const p = provider.toLowerCase();
  const exact = (PROVIDER_PRIORITY as readonly string[]).indexOf(p);
  if (exact !== -1) return exact;
  // Transformations write their own provider id (keboola.snowflake-transformation, …).
  if (p.includes('transformation')) return PROVIDER_PRIORITY.indexOf('transformation');
  return PROVIDER_PRIORITY.length;
}

/** The entry for `key` with a non-empty value from the highest-priority provider (the newest on a tie). */
export function pickMetadata(entries: readonly MetadataEntry[] | undefined, key: string): MetadataEntry | undefined {
  let best: MetadataEntry | undefined;
  for (const entry of entries ?? []) {
    if (entry.key !== key || typeof entry.value !== 'string' || entry.value.trim() === '') continue;
    if (!best) {
      best = entry;
      continue;
    }
    const rank = providerRank(entry.provider) - providerRank(best.provider);
    if (rank < 0 || (rank === 0 && (entry.timestamp ?? '') > (best.timestamp ?? ''))) best = entry;
  }
  return best;
}

/** A column's type from metadata (or a typed table's definition); STRING when nothing says otherwise. */
export function metadataType(name: string, entries: readonly MetadataEntry[] | undefined, detail?: TableDetail): { type: PublishedType; sourceType?: string; typeFrom: string; provider?: string } {
  for (const key of TYPE_KEYS) {
    const entry = pickMetadata(entries, key);
    if (!entry) continue;
    const type = mapType(entry.value);
    // The basetype TIMESTAMP does not say whether values carry a zone; a zoned backend type does, and must win.
    const backend = key === 'KBC.datatype.basetype' && type === 'TIMESTAMP' ? pickMetadata(entries, 'KBC.datatype.type') : undefined;
    if (backend && mapType(backend.value) === 'TIMESTAMPTZ') return { type: 'TIMESTAMPTZ', sourceType: backend.value, typeFrom: 'KBC.datatype.type', provider: backend.provider };
    return { type, sourceType: entry.value, typeFrom: key, provider: entry.provider };
  }
  const defined = detail?.definition?.columns?.find((c) => c.name === name)?.basetype;
  if (defined) return { type: mapType(defined), sourceType: defined, typeFrom: 'definition' };
  return { type: 'VARCHAR', typeFrom: 'default' };
}

/** Keboola's type name to a published DuckDB type. */
export function mapType(keboolaType: string): PublishedType {
  const base = keboolaType.trim().toUpperCase().replace(/\(.*\)$/, '').trim();
  return publishedType(TYPE_ALIASES[base] ?? keboolaType);
}

/** The table description: `KBC.description` of the table (an alias's own first, then its source's). */
export function tableDescription(keboola: TableWithMetadata): string | undefined {
  return pickMetadata(keboola.detail.metadata, DESCRIPTION_KEY)?.value ?? pickMetadata(keboola.metadata, DESCRIPTION_KEY)?.value;
}

/** Every column of a Keboola table with its type and description from metadata alone (what the init wizard shows). */
export function metadataColumns(keboola: TableWithMetadata): PlannedColumn[] {
  return keboola.detail.columns.map((name) => {
    const entries = keboola.columnMetadata[name];
    const typed = metadataType(name, entries, keboola.source ?? keboola.detail);
    const column: PlannedColumn = { name, type: typed.type, typeFrom: typed.typeFrom };
    if (typed.sourceType !== undefined) column.sourceType = typed.sourceType;
    if (typed.provider !== undefined) column.provider = typed.provider;
    const description = pickMetadata(entries, DESCRIPTION_KEY)?.value;
    if (description !== undefined) column.description = description;
    return column;
  });
}

/**
 * The published columns of a table: with explicit `columns` in the table config, exactly those (in that order,
 * each present in Keboola), their declared types and descriptions winning over metadata; otherwise every Keboola
 * column with its metadata type.
 */
export function planColumns(table: TableConfig, keboola: TableWithMetadata): PlannedColumn[] {
  const fromMetadata = metadataColumns(keboola);
  if (table.columns.length === 0) return fromMetadata;
  const byName = new Map(fromMetadata.map((c) => [c.name, c]));
  const missing = table.columns.filter((c) => !byName.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw adaError(ErrorCode.configInvalid, `Table ${table.id} (${table.location.file}:${table.location.line}) declares column${missing.length > 1 ? 's' : ''} `
      + `${missing.map((n) => `"${n}"`).join(', ')} that Keboola's table does not have; its columns are ${keboola.detail.columns.join(', ')}`, { table: table.id, missing });
  }
  return table.columns.map((declared) => {
    const meta = byName.get(declared.name) as PlannedColumn;
    const column: PlannedColumn = { ...meta };
    if (declared.type !== undefined && declared.type.trim() !== '') {
      column.type = mapType(declared.type);
      column.sourceType = declared.type;
      column.typeFrom = 'config';
      delete column.provider;
    }
    if (declared.description !== undefined) column.description = declared.description;
    return column;
  });
}
