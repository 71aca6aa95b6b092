/** Assembles a table's profile from what the profiling process computed, the publish and the configuration; pure. */
import { catalogTable, catalogTables } from '../../../config/index.ts';
import type { AdaConfig, TableConfig } from '../../../config/index.ts';
import { tableAlerts } from './alerts.ts';
import type { ComputedProfile, TablePublish, RelatedTable, TableProfile } from './types.ts';

const MB = 1024 * 1024;

/** Foreign keys between `table` and the other configured tables, in both directions (config order; outgoing first). */
export function relatedTables(table: string, config: Pick<AdaConfig, 'tables' | 'declaredTables'>): RelatedTable[] {
  const own = catalogTable(config, table);
  const outgoing = (own?.foreignKeys ?? []).map((fk): RelatedTable => ({
    table: fk.references.split('.')[0] ?? fk.references,
    direction: 'outgoing',
    from: `${table}.${fk.column}`,
    to: fk.references,
    ...(fk.description ? { description: fk.description } : {}),
  }));
  const incoming = catalogTables(config).flatMap((other) => other.foreignKeys
    .filter((fk) => fk.references.split('.')[0] === table)
    .map((fk): RelatedTable => ({
      table: other.name,
      direction: 'incoming',
      from: `${other.name}.${fk.column}`,
      to: fk.references,
      ...(fk.description ? { description: fk.description } : {}),
    })));
  return [...outgoing, ...incoming];
}

/** The profiles.json entry of a freshly profiled table. */
export function buildProfile(input: {
  published: TablePublish;
  computed: ComputedProfile;
  tableConfig: TableConfig | undefined;
  config: Pick<AdaConfig, 'tables'>;
  profiledAt: string;
  durationMs: number;
}): TableProfile {
  const { published: p, computed, tableConfig: c } = input;
  const primaryKey = c?.primaryKey ?? [];
  return {
    table: p.table,
    folder: p.folder,
    ...(c?.description ? { description: c.description } : {}),
    ...(c?.private || p.folder === 'private' ? { private: true as const } : {}),
    content_hash: p.contentHash,
    profiled_at: input.profiledAt,
    duration_ms: Math.round(input.durationMs),
    file_count: p.files.length,
    file_size: p.bytes,
    file_size_mb: Math.round((p.bytes / MB) * 100) / 100,
    last_sync: p.publishedAt,
    sync_strategy: p.strategy,
    primary_key: primaryKey,
    ...computed,
    related_tables: relatedTables(p.table, input.config),
    alerts: tableAlerts(computed, primaryKey),
    stale: false,
  };
}

/** The previous profile of a table whose latest publish failed to profile: kept, marked stale with the reason. */
export function markStale(previous: TableProfile, reason: string, since: string): TableProfile {
  return { ...previous, stale: true, stale_reason: reason, stale_since: previous.stale && previous.stale_since ? previous.stale_since : since };
}
