/**
 * The catalog projection: what analysts read about the data. Writes `<data>/docs/schema.yml`
 * (every published table: id, description, primary key, strategy, partitioning, columns) and
 * one markdown page per table under `<data>/docs/tables/`.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import YAML from 'yaml';
import { catalogTable, catalogTables } from '../../../config/index.ts';
import type { AdaConfig, TableConfig } from '../../../config/index.ts';
import { assertNever } from '../../../events/index.ts';
import type { ColumnSchema } from '../../../events/index.ts';
import { defineProjector } from '../../projection.ts';
import type { Projection } from '../../projection.ts';

/** What the catalog knows of a published table. */
export interface CatalogTable {
  table: string;
  folder: string;
  strategy: string;
  rows: number;
  bytes: number;
  files: string[];
  schema: ColumnSchema[];
  publishedAt: string;
  contentHash: string;
}

/** State of the catalog: published tables by name. */
export interface CatalogState {
  tables: Record<string, CatalogTable>;
}

/** How a table reads with DuckDB from the data directory. */
export function tableGlob(t: CatalogTable, config?: TableConfig): string {
  return config?.partitionBy ? `parquet/${t.folder}/${t.table}/*.parquet` : (t.files[0] ?? `parquet/${t.folder}/${t.table}.parquet`);
}

/** The schema.yml document for analysts. */
export function schemaDocument(state: CatalogState, config: AdaConfig): Record<string, unknown> {
  const tables = Object.values(state.tables).sort((a, b) => a.table.localeCompare(b.table)).map((t) => {
    const c = catalogTable(config, t.table);
    const descriptions = new Map((c?.columns ?? []).map((col) => [col.name, col.description]));
    return {
      name: t.table,
      id: c?.id,
      description: c?.description,
      folder: t.folder,
      path: tableGlob(t, c),
      primary_key: c?.primaryKey ?? [],
      sync_strategy: t.strategy,
      ...(c?.partitionBy ? { partition_by: c.partitionBy, partition_granularity: c.partitionGranularity } : {}),
      ...(c?.private ? { private: true } : {}),
      ...(c?.dataset ? { dataset: c.dataset } : {}),
      rows: t.rows,
      size_bytes: t.bytes,
      last_published: t.publishedAt,
      columns: t.schema.map((col) => ({ name: col.name, type: col.type, ...(descriptions.get(col.name) ?? col.description ? { description: descriptions.get(col.name) ?? col.description } : {}) })),
      ...(c?.foreignKeys.length ? { foreign_keys: c.foreignKeys.map((fk) => ({ column: fk.column, references: fk.references, ...(fk.description ? { description: fk.description } : {}) })) } : {}),
    };
  });
  return { generated_by: 'ada', tables };
}

function escapeCell(s: string | undefined): string {
  return (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * A row count with thousands separators, as `toLocaleString('en-US')` writes it, without ICU: its number formatting
 * costs a one-off sync more to set up (tens of ms) than the catalog's whole sink.
 */
export function groupDigits(n: number): string {
  return Number.isSafeInteger(n) ? String(n).replace(/\B(?=(\d{3})+$)/g, ',') : n.toLocaleString('en-US');
}

/** One table's markdown page. */
export function tablePage(t: CatalogTable, c: TableConfig | undefined, state: CatalogState, config: AdaConfig): string {
  const descriptions = new Map((c?.columns ?? []).map((col) => [col.name, col.description]));
  const pk = new Set(c?.primaryKey ?? []);
  const referencedBy = catalogTables(config).flatMap((o) => o.foreignKeys.filter((fk) => fk.references.split('.')[0] === t.table).map((fk) => `\`${o.name}.${fk.column}\` → \`${fk.references}\``));
  const lines = [
    `# ${t.table}`,
    '',
    c?.description ?? '',
    '',
    '| | |',
    '| --- | --- |',
    `| source id | \`${c?.id ?? '?'}\` |`,
    `| read with | \`read_parquet('${tableGlob(t, c)}')\` |`,
    `| primary key | ${pk.size ? [...pk].map((k) => `\`${k}\``).join(', ') : '—'} |`,
    `| sync strategy | ${t.strategy} |`,
    ...(c?.partitionBy ? [`| partitioned by | \`${c.partitionBy}\` (${c.partitionGranularity}) |`] : []),
    `| rows | ${groupDigits(t.rows)} |`,
    `| files | ${t.files.length} |`,
    `| last published | ${t.publishedAt} |`,
    ...(c?.private ? ['| access | private: privileged analysts and admins only |'] : []),
    '',
    '## Columns',
    '',
    '| column | type | description |',
    '| --- | --- | --- |',
    ...t.schema.map((col) => `| ${pk.has(col.name) ? `**${col.name}**` : col.name} | ${col.type} | ${escapeCell(descriptions.get(col.name) ?? col.description)} |`),
  ];
  if (c?.foreignKeys.length || referencedBy.length) {
    lines.push('', '## Related tables', '');
    for (const fk of c?.foreignKeys ?? []) lines.push(`- \`${fk.column}\` → \`${fk.references}\`${fk.description ? `: ${fk.description}` : ''}`);
    for (const r of referencedBy) lines.push(`- referenced by ${r}`);
  }
  void state;
  return `${lines.join('\n')}\n`;
}

/** Creates the catalog projection for a configuration. */
export function catalogProjection(config: AdaConfig): Projection<CatalogState, 'TablePublished'> {
  return defineProjector({
    name: 'catalog',
    version: 1,
    handles: ['TablePublished'],
    initialState: (): CatalogState => ({ tables: {} }),
    evolve(state, e) {
      switch (e.type) {
        case 'TablePublished': {
          const d = e.data;
          return {
            tables: {
              ...state.tables,
              [d.table]: { table: d.table, folder: d.folder, strategy: d.strategy, rows: d.rows, bytes: d.bytes, files: d.files.map((f) => f.path), schema: d.schema, publishedAt: e.at, contentHash: d.contentHash },
            },
          };
        }
        default:
          return assertNever(e.type);
      }
    },
    async sink(state, ctx) {
      const docs = path.join(ctx.dataDir, 'docs');
      await mkdir(path.join(docs, 'tables'), { recursive: true });
      await writeFileAtomic(path.join(docs, 'schema.yml'), YAML.stringify(schemaDocument(state, config)));
      for (const t of Object.values(state.tables)) {
        const c = catalogTable(config, t.table);
        await writeFileAtomic(path.join(docs, 'tables', `${t.table}.md`), tablePage(t, c, state, config));
      }
    },
    reset: ({ dataDir }) => rm(path.join(dataDir, 'docs'), { recursive: true, force: true }),
  });
}
