/**
 * Generating `data_description.md`: folders from buckets, safe unique table names, suggested sync strategies, and
 * the markdown with its fenced yaml blocks — the whole file on a first run, an appended block on later runs.
 */
import { Document, parse } from 'yaml';
import type { YAMLMap, YAMLSeq } from 'yaml';
import { extractFencedYamlBlocks } from '../../config/index.ts';
import { formatBytes } from '../format.ts';
import type { ProjectBucket, ProjectTable } from './project.ts';

/** From this many rows a full export each sync costs more than tracking changes (UPSTREAM: the original's rule of thumb). */
export const LARGE_TABLE_ROWS = 1_000_000;
/** From this size (100 MB, binary as `formatBytes` shows it) a full export each sync costs more than tracking changes. */
export const LARGE_TABLE_BYTES = 100 * 1024 * 1024;
/** The look-back of suggested incremental syncs: a week covers late-arriving changes and a missed weekend of syncs. */
export const INCREMENTAL_WINDOW_DAYS = 7;
/** The description of a table whose source has none. */
export const TODO_DESCRIPTION = 'TODO: describe';

/** A table with the name it gets in the data description. */
export interface NamedTable {
  table: ProjectTable;
  name: string;
}

/** A suggested sync strategy and why. */
export interface StrategySuggestion {
  strategy: 'incremental' | 'full_refresh';
  reason: string;
}

/** What the data description already defines (read from its fenced yaml blocks). */
export interface DescribedTables {
  ids: Set<string>;
  /** Lower-cased, as names are compared. */
  names: Set<string>;
  folderMapping: Record<string, string>;
  /** Buckets of the described tables. */
  buckets: Set<string>;
}

/** The folder of a bucket: without the `in.c-`/`out.c-` stage prefix, as a safe path segment (`in.c-shop` → `shop`). */
export function folderForBucket(bucket: string): string {
  const stripped = bucket.replace(/^(?:in|out)\.c-/i, '');
  const safe = stripped.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^[_.-]+|_+$/g, '');
  return safe === '' ? 'bucket' : safe;
}

/**
 * Folders for `buckets` that none of the `existing` mappings' folders (of other buckets) use: `in.c-shop` → `shop`,
 * and when `shop` is taken, `out.c-shop` → `out-shop`, then `shop-2`, `shop-3`, …
 */
export function assignFolders(buckets: readonly string[], existing: Readonly<Record<string, string>> = {}): Record<string, string> {
  const used = new Set(Object.values(existing).map((f) => f.toLowerCase()));
  const out: Record<string, string> = {};
  for (const bucket of [...new Set(buckets)].sort()) {
    if (existing[bucket] !== undefined) continue;
    const base = folderForBucket(bucket);
    const stage = /^(in|out)\.c-/i.exec(bucket)?.[1]?.toLowerCase();
    const candidates = [base, ...(stage ? [`${stage}-${base}`] : [])];
    let folder = candidates.find((c) => !used.has(c.toLowerCase()));
    for (let n = 2; folder === undefined; n++) if (!used.has(`${base}-${n}`.toLowerCase())) folder = `${base}-${n}`;
    used.add(folder.toLowerCase());
    out[bucket] = folder;
  }
  return out;
}

/** A table name that is a safe file name and a DuckDB view name needing no quotes: letters, digits and `_`, not starting with a digit. */
export function sqlName(raw: string): string {
  const safe = raw.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (safe === '') return 'table';
  return /^[0-9]/.test(safe) ? `t_${safe}` : safe;
}

/**
 * Names for `tables`, unique (case-insensitively) among themselves and against `taken`: the source's table name,
 * prefixed with the folder when two buckets have a table of that name (or the name is taken), numbered as a last resort.
 */
export function assignNames(tables: readonly ProjectTable[], folderOf: (bucket: string) => string, taken: Iterable<string> = []): NamedTable[] {
  const used = new Set([...taken].map((n) => n.toLowerCase()));
  const counts = new Map<string, number>();
  for (const t of tables) {
    const key = sqlName(t.tableName).toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return tables.map((table) => {
    const base = sqlName(table.tableName);
    const clash = (counts.get(base.toLowerCase()) ?? 0) > 1 || used.has(base.toLowerCase());
    let name = clash ? sqlName(`${folderOf(table.bucket)}_${table.tableName}`) : base;
    const stem = name;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${stem}_${n}`;
    used.add(name.toLowerCase());
    return { table, name };
  });
}

/** Incremental for a large table with a primary key (rows ≥ 1,000,000 or data ≥ 100 MB); a full refresh otherwise. */
export function suggestStrategy(table: Pick<ProjectTable, 'primaryKey' | 'rowsCount' | 'dataSizeBytes'>): StrategySuggestion {
  const large = (table.rowsCount ?? 0) >= LARGE_TABLE_ROWS || (table.dataSizeBytes ?? 0) >= LARGE_TABLE_BYTES;
  if (!large) return { strategy: 'full_refresh', reason: 'small enough to export whole' };
  if (table.primaryKey.length === 0) return { strategy: 'full_refresh', reason: 'large, but without a primary key changed rows cannot be merged' };
  return { strategy: 'incremental', reason: 'large, with a primary key' };
}

/** The table entries of a `tables:` yaml block, with a comment on each saying its size and why the strategy. */
export function tablesYaml(tables: readonly NamedTable[]): string {
  const doc = new Document({ tables: tables.map(tableEntry) });
  const seq = doc.get('tables') as YAMLSeq;
  seq.items.forEach((item, i) => {
    const { table } = tables[i]!;
    const map = item as YAMLMap;
    const size = sizeNote(table);
    if (size) map.commentBefore = ` ${size}; ${suggestStrategy(table).reason}`;
    const pk = map.get('primary_key');
    if (pk && typeof pk === 'object') (pk as YAMLSeq).flow = true;
    const columns = map.get('columns') as YAMLSeq | undefined;
    for (const column of columns?.items ?? []) (column as YAMLMap).flow = true;
  });
  // No block scalars: a multi-line description stays one quoted line, so nothing in it can close the fence.
  return doc.toString({ lineWidth: 0, blockQuote: false, flowCollectionPadding: false });
}

function sizeNote(table: ProjectTable): string | undefined {
  const parts: string[] = [];
  if (table.rowsCount !== undefined) parts.push(`${table.rowsCount.toLocaleString('en-US')} rows`);
  if (table.dataSizeBytes !== undefined) parts.push(formatBytes(table.dataSizeBytes));
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function tableEntry({ table, name }: NamedTable): Record<string, unknown> {
  const entry: Record<string, unknown> = { id: table.id, name, description: table.description ?? TODO_DESCRIPTION };
  if (table.file !== undefined) entry.file = table.file;
  if (table.primaryKey.length === 1) entry.primary_key = table.primaryKey[0];
  else if (table.primaryKey.length > 1) entry.primary_key = [...table.primaryKey];
  const { strategy } = suggestStrategy(table);
  entry.sync_strategy = strategy;
  if (strategy === 'incremental') entry.incremental_window_days = INCREMENTAL_WINDOW_DAYS;
  if (table.columns.length > 0) {
    entry.columns = table.columns.map((c) => ({ name: c.name, ...(c.type ? { type: c.type } : {}), ...(c.description ? { description: c.description } : {}) }));
  }
  return entry;
}

function folderMappingYaml(mapping: Readonly<Record<string, string>>): string {
  return new Document({ folder_mapping: { ...mapping } }).toString({ lineWidth: 0, blockQuote: false });
}

function fenced(yamlText: string): string {
  return `\`\`\`yaml\n${yamlText.trimEnd()}\n\`\`\``;
}

/** What a first run writes. */
export interface DescriptionInput {
  instanceName: string;
  /** e.g. `Keboola project "Shop" (1234) at https://connection.keboola.com`. */
  sourceLabel: string;
  /** `YYYY-MM-DD` */
  date: string;
  /** Every chosen bucket → its folder (buckets without tables too: the mapping records the choice for later runs). */
  folderMapping: Readonly<Record<string, string>>;
  buckets: readonly ProjectBucket[];
  tables: readonly NamedTable[];
}

/** The whole `data_description.md` of a first run: an intro, the folder mapping, and one `tables:` block per bucket. */
export function renderDescription(input: DescriptionInput): string {
  const parts: string[] = [
    `# Data description — ${input.instanceName}`,
    '',
    `The tables this instance publishes, generated by \`ada init\` on ${input.date} from ${input.sourceLabel}. `
      + 'The prose is for analysts; the fenced `yaml` blocks are read by `ada` (every key is explained in docs/configuration.md).',
    '',
    `Before the first \`ada sync\`: replace every "${TODO_DESCRIPTION}" with a sentence an analyst understands, and check each `
      + '`sync_strategy` (suggested: `incremental` for tables with a primary key and at least 1,000,000 rows or 100 MB, '
      + '`full_refresh` for the rest). Edit freely: `ada init` never rewrites this file, it only appends tables that are new in the source.',
    '',
    '## Folders',
    '',
    'Each bucket\'s tables are published under `parquet/<folder>/`.',
    '',
    fenced(folderMappingYaml(input.folderMapping)),
  ];
  const bucketInfo = new Map(input.buckets.map((b) => [b.id, b]));
  const byBucket = new Map<string, NamedTable[]>();
  for (const t of input.tables) byBucket.set(t.table.bucket, [...(byBucket.get(t.table.bucket) ?? []), t]);
  if (byBucket.size === 0) {
    parts.push('', '## Tables', '', 'No tables yet. Add entries to the block below (see docs/configuration.md), or run `ada init` again once the source has tables.', '', fenced('tables: []'));
  }
  for (const bucket of [...byBucket.keys()].sort()) {
    const folder = input.folderMapping[bucket] ?? bucket;
    const about = bucketInfo.get(bucket)?.description?.trim();
    parts.push('', `## ${folder}`, '', `Tables of bucket \`${bucket}\`.${about ? ` ${about.replace(/\s+/g, ' ')}` : ''}`, '', fenced(tablesYaml(byBucket.get(bucket)!)));
  }
  return `${parts.join('\n')}\n`;
}

/** The block a later run appends: a dated heading, folders for buckets that had no tables yet, and the new tables. */
export function renderAppendix(input: { date: string; sourceLabel: string; folderMapping: Readonly<Record<string, string>>; tables: readonly NamedTable[] }): string {
  const yamlParts = [
    ...(Object.keys(input.folderMapping).length > 0 ? [folderMappingYaml(input.folderMapping).trimEnd(), ''] : []),
    tablesYaml(input.tables).trimEnd(),
  ];
  return [
    '',
    `## Tables added by ada init on ${input.date}`,
    '',
    `New in ${input.sourceLabel} since the last run. Review their descriptions and sync strategies.`,
    '',
    fenced(yamlParts.join('\n')),
    '',
  ].join('\n');
}

/** `text` with `appendix` after it; the existing bytes stay exactly as they were (a missing final newline is added by the appendix). */
export function appendToDescription(text: string, appendix: string): string {
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${appendix}`;
}

/**
 * The table ids, names and folder mappings in a markdown file's fenced yaml blocks, read leniently (a block that
 * does not parse is skipped), for when the configuration as a whole does not load.
 */
export function describedInMarkdown(text: string): DescribedTables {
  const found: DescribedTables = { ids: new Set(), names: new Set(), folderMapping: {}, buckets: new Set() };
  for (const block of extractFencedYamlBlocks(text).blocks) {
    let value: unknown;
    try {
      value = parse(block.text);
    } catch {
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    const { tables, folder_mapping: mapping } = value as { tables?: unknown; folder_mapping?: unknown };
    if (Array.isArray(tables)) {
      for (const t of tables) {
        if (!t || typeof t !== 'object') continue;
        const { id, name } = t as { id?: unknown; name?: unknown };
        if (typeof id === 'string') {
          found.ids.add(id.trim());
          const dot = id.trim().lastIndexOf('.');
          if (dot !== -1) found.buckets.add(id.trim().slice(0, dot));
        }
        if (typeof name === 'string') found.names.add(name.trim().toLowerCase());
      }
    }
    if (mapping && typeof mapping === 'object' && !Array.isArray(mapping)) {
      for (const [bucket, folder] of Object.entries(mapping)) if (typeof folder === 'string') found.folderMapping[bucket] = folder;
    }
  }
  return found;
}
