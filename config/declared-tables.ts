/**
 * Tables a connector publishes itself instead of through `ada sync` (Jira's monthly tables, written by its
 * projection and announced with `TablePublished`). A connector declares them at run time, when it is enabled;
 * the catalog, profiler, manifests, notifications and portal list them next to `data_description.md`'s tables
 * through `catalogTables`, and never name the connector.
 */
import { deepFreeze, withoutUndefined } from './deep-freeze.ts';
import type { AdaConfig, ColumnConfig, DatasetConfig, ForeignKey, TableConfig } from './types.ts';

/** One table a connector publishes; the fields not given take the defaults of a configured table. */
export interface DeclaredTable {
  name: string;
  description: string;
  /** Output folder under `parquet/` (Jira: `jira`). */
  folder: string;
  dataset?: string;
  primaryKey?: string[];
  columns?: ColumnConfig[];
  foreignKeys?: ForeignKey[];
  /** Only privileged analysts and admins see it. */
  private?: boolean;
  /** The column the files are split by, when the table is partitioned (Jira: `created`, by month). */
  partitionBy?: string;
}

/** What one enabled connector declares: its tables and the datasets they (or its files) belong to. */
export interface DeclaredTables {
  /** Source type of the tables (`jira`). */
  source: string;
  tables: DeclaredTable[];
  /** Datasets analysts may subscribe to; a dataset configured in instance.yaml under the same key wins. */
  datasets?: DatasetConfig[];
}

/**
 * The configuration with the connectors' declared tables (`declaredTables`) and datasets (merged into
 * `instance.datasets`). A declared table named like a configured one is left out with a warning: the configured
 * table keeps its name.
 */
export function withDeclaredTables(config: AdaConfig, declared: readonly DeclaredTables[]): AdaConfig {
  if (declared.length === 0) return config;
  const taken = new Set(config.tables.map((t) => t.name));
  const tables: TableConfig[] = [];
  const warnings = [...(config.warnings ?? [])];
  const datasets: Record<string, DatasetConfig> = {};
  for (const d of declared) {
    for (const ds of d.datasets ?? []) if (!Object.hasOwn(config.instance.datasets, ds.key)) datasets[ds.key] = ds;
    for (const t of d.tables) {
      if (taken.has(t.name)) {
        warnings.push({ file: config.instanceFile, message: `${d.source} publishes a table "${t.name}", but data_description.md defines one with that name: the ${d.source} table is not listed` });
        continue;
      }
      taken.add(t.name);
      tables.push(tableOf(config, d.source, t));
    }
  }
  // A dataset configured under a declared key keeps its label and requires, but never loses the declaration's privacy.
  const configured = Object.fromEntries(Object.entries(config.instance.datasets).map(([key, ds]) => {
    const privately = declared.some((d) => d.datasets?.some((x) => x.key === key && x.private));
    return [key, privately ? { ...ds, private: true } : ds];
  }));
  return deepFreeze(withoutUndefined<AdaConfig>({
    ...config,
    instance: { ...config.instance, datasets: { ...datasets, ...configured } },
    declaredTables: tables,
    warnings,
  }));
}

function tableOf(config: AdaConfig, source: string, t: DeclaredTable): TableConfig {
  return {
    id: `${source}.${t.folder}.${t.name}`,
    name: t.name,
    description: t.description,
    source,
    primaryKey: t.primaryKey ?? [],
    syncStrategy: t.partitionBy ? 'partitioned' : 'full_refresh',
    incrementalWindowDays: 0,
    partitionBy: t.partitionBy,
    partitionGranularity: 'month',
    initialLoadChunkDays: 0,
    whereFilters: [],
    foreignKeys: t.foreignKeys ?? [],
    folder: t.folder,
    bucket: t.folder,
    dataset: t.dataset,
    columns: t.columns ?? [],
    private: t.private ?? false,
    schemaPolicy: 'strict',
    location: { file: config.instanceFile, line: 0 },
  };
}

/** Every table the catalog knows: the configured ones, then those connectors publish themselves. */
export function catalogTables(config: Pick<AdaConfig, 'tables' | 'declaredTables'>): readonly TableConfig[] {
  return config.declaredTables?.length ? [...config.tables, ...config.declaredTables] : config.tables;
}

/** A table of the catalog by name (configured or declared by a connector). */
export function catalogTable(config: Pick<AdaConfig, 'tables' | 'declaredTables'>, name: string): TableConfig | undefined {
  return config.tables.find((t) => t.name === name) ?? config.declaredTables?.find((t) => t.name === name);
}
