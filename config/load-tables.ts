/** Reading table definitions from the fenced ```yaml blocks of data_description.md and docs/datasets/*.md. */
import { extractFencedYamlBlocks } from './fenced-yaml-blocks.ts';
import { readSchedule } from './load-instance.ts';
import { parseLocatedYaml } from './located-yaml.ts';
import { documentContext } from './problems.ts';
import type { DocumentContext, ProblemSink, YamlPath } from './problems.ts';
import {
  isAbsent, isYamlMap, readBoolean, readEnum, readInteger, readList, readMap, readString, readStringList, warnUnknownKeys,
} from './read-fields.ts';
import type { YamlMap } from './read-fields.ts';
import { unsafePathSegmentReason } from './safe-path-segment.ts';
import type {
  ColumnConfig, CsvOptions, FilterOperator, ForeignKey, PartitionGranularity, SourceLocation, SyncStrategy, TableConfig, WhereFilter,
} from './types.ts';

/** A markdown file holding table definitions. */
export interface DescriptionFile {
  file: string;
  text: string;
}

/** What table validation needs to know about instance.yaml; undefined fields are not checked. */
export interface TableSettings {
  defaultSource?: string;
  sources?: readonly string[];
  datasets?: readonly string[];
}

const SYNC_STRATEGIES: readonly SyncStrategy[] = ['full_refresh', 'incremental', 'partitioned'];
const GRANULARITIES: readonly PartitionGranularity[] = ['month', 'day', 'year'];
const OPERATORS: readonly FilterOperator[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'];
const SCHEMA_POLICIES = ['strict', 'evolve', 'freeze'] as const;
/** Every key a table definition may have. */
export const TABLE_KEYS = [
  'id', 'name', 'description', 'primary_key', 'sync_strategy', 'incremental_window_days', 'partition_by',
  'partition_granularity', 'max_history_days', 'initial_load_chunk_days', 'where_filters', 'foreign_keys', 'folder',
  'dataset', 'columns', 'private', 'schedule', 'source', 'file', 'csv', 'schema_policy',
];
/** Every key of a table's `csv` options. */
export const CSV_KEYS = ['delimiter', 'header', 'quote', 'escape', 'encoding', 'null', 'max_line_size'];

const DEFAULT_INCREMENTAL_WINDOW_DAYS = 7;
const DEFAULT_INITIAL_LOAD_CHUNK_DAYS = 30;

interface RawTable {
  ctx: DocumentContext;
  map: YamlMap;
  at: YamlPath;
}

/**
 * Reads every fenced yaml block of `files` in order: `tables:` lists are
 * concatenated, `folder_mapping:` entries merged (a bucket mapped to two
 * different folders is a problem). Problems and warnings go to `sink`.
 */
export function loadTables(files: readonly DescriptionFile[], settings: TableSettings, sink: ProblemSink): { tables: TableConfig[]; folderMapping: Record<string, string> } {
  const raws: RawTable[] = [];
  const folderMapping: Record<string, string> = {};
  const mappedAt = new Map<string, SourceLocation>();

  for (const { file, text } of files) {
    const { blocks, problems } = extractFencedYamlBlocks(text);
    for (const p of problems) sink.problems.push({ file, line: p.line, message: p.message });
    for (const block of blocks) {
      const parsed = parseLocatedYaml(block.text, block.firstLine);
      if (!parsed.ok) {
        for (const e of parsed.errors) sink.problems.push({ file, line: e.line, message: `invalid YAML in the block starting at line ${block.fenceLine}: ${e.message}` });
        continue;
      }
      const ctx = documentContext(sink, file, (at) => parsed.doc.lineOf(at) ?? block.fenceLine);
      const value = parsed.doc.value;
      if (isAbsent(value)) continue;
      if (!isYamlMap(value)) {
        ctx.problem([], 'expected a mapping with tables: and/or folder_mapping:');
        continue;
      }
      if (!('tables' in value) && !('folder_mapping' in value)) {
        ctx.warn([], 'this yaml block has neither tables: nor folder_mapping: and is ignored');
        continue;
      }
      warnUnknownKeys(ctx, value, [], ['tables', 'folder_mapping']);
      (readList(ctx, value, [], 'tables') ?? []).forEach((item, i) => {
        const at = ['tables', i];
        if (isYamlMap(item)) raws.push({ ctx, map: item, at });
        else ctx.problem(at, 'expected a table definition (a mapping with id, name and description)');
      });
      for (const [bucket, folder] of Object.entries(readMap(ctx, value, [], 'folder_mapping') ?? {})) {
        const at = ['folder_mapping', bucket];
        if (typeof folder !== 'string') {
          ctx.problem(at, 'expected a folder name');
          continue;
        }
        const unsafe = unsafePathSegmentReason(folder);
        if (unsafe) ctx.problem(at, `folder ${unsafe}; it must be a single directory name`);
        const earlier = mappedAt.get(bucket);
        if (earlier && folderMapping[bucket] !== folder) {
          ctx.problem(at, `bucket "${bucket}" is already mapped to "${folderMapping[bucket]}" at ${earlier.file}:${earlier.line}`);
          continue;
        }
        if (!earlier) mappedAt.set(bucket, { file, line: ctx.lineOf(at) ?? block.fenceLine });
        folderMapping[bucket] = folder;
      }
    }
  }

  const built: Array<{ table: TableConfig; raw: RawTable }> = [];
  for (const raw of raws) {
    const table = buildTable(raw, folderMapping, settings);
    if (table) built.push({ table, raw });
  }
  checkDuplicateNames(built);
  const tables = built.map((b) => b.table);
  checkForeignKeyTargets(tables, sink);
  return { tables, folderMapping };
}

function buildTable({ ctx, map, at }: RawTable, folderMapping: Record<string, string>, settings: TableSettings): TableConfig | undefined {
  warnUnknownKeys(ctx, map, at, TABLE_KEYS);
  const id = readString(ctx, map, at, 'id', { required: true })?.trim();
  const name = readString(ctx, map, at, 'name', { required: true })?.trim();
  const description = readString(ctx, map, at, 'description', { required: true });
  if (name !== undefined) {
    const unsafe = unsafePathSegmentReason(name);
    if (unsafe) ctx.problem([...at, 'name'], `table name ${unsafe}; it is used as a file and directory name`);
  }

  const syncStrategy = readEnum(ctx, map, at, 'sync_strategy', SYNC_STRATEGIES) ?? 'full_refresh';
  const partitionBy = readString(ctx, map, at, 'partition_by')?.trim() || undefined;
  if (map.sync_strategy === 'partitioned' && partitionBy === undefined) {
    ctx.problem([...at, 'sync_strategy'], 'a partitioned table needs partition_by (the date column to split by)');
  }

  const explicitSource = readString(ctx, map, at, 'source')?.trim();
  const source = explicitSource ?? settings.defaultSource ?? '';
  if (explicitSource !== undefined && settings.sources && !settings.sources.includes(explicitSource)) {
    ctx.problem([...at, 'source'], `source "${explicitSource}" is not configured in instance.yaml (configured: ${settings.sources.join(', ')})`);
  }

  // Bucket = the id without its last segment (`in.c-shop.orders` → `in.c-shop`); ids without a dot belong to their source.
  const bucket = id === undefined ? '' : id.includes('.') ? id.slice(0, id.lastIndexOf('.')) : source;
  const explicitFolder = readString(ctx, map, at, 'folder')?.trim();
  let folder: string;
  if (explicitFolder !== undefined) {
    folder = explicitFolder;
    const unsafe = unsafePathSegmentReason(folder);
    if (unsafe) ctx.problem([...at, 'folder'], `folder ${unsafe}; it must be a single directory name`);
  } else {
    folder = folderMapping[bucket] ?? bucket;
    const unsafe = folderMapping[bucket] === undefined && id !== undefined && (id.includes('.') || settings.defaultSource !== undefined)
      ? unsafePathSegmentReason(folder) : undefined;
    if (unsafe) ctx.problem([...at, 'id'], `the folder derived from the id's bucket ${unsafe}; set folder: explicitly`);
  }

  const dataset = readString(ctx, map, at, 'dataset')?.trim();
  if (dataset !== undefined && settings.datasets && !settings.datasets.includes(dataset)) {
    const known = settings.datasets.length > 0 ? `configured: ${settings.datasets.join(', ')}` : 'instance.yaml defines no datasets';
    ctx.problem([...at, 'dataset'], `unknown dataset "${dataset}" (${known})`);
  }

  const table: TableConfig = {
    id: id ?? '',
    name: name ?? '',
    description: description ?? '',
    source,
    primaryKey: readStringList(ctx, map, at, 'primary_key') ?? [],
    syncStrategy,
    incrementalWindowDays: readInteger(ctx, map, at, 'incremental_window_days', 0) ?? DEFAULT_INCREMENTAL_WINDOW_DAYS,
    partitionBy,
    partitionGranularity: readEnum(ctx, map, at, 'partition_granularity', GRANULARITIES) ?? 'month',
    maxHistoryDays: readInteger(ctx, map, at, 'max_history_days', 1),
    initialLoadChunkDays: readInteger(ctx, map, at, 'initial_load_chunk_days', 1) ?? DEFAULT_INITIAL_LOAD_CHUNK_DAYS,
    whereFilters: readWhereFilters(ctx, map, at),
    foreignKeys: readForeignKeys(ctx, map, at),
    folder,
    bucket,
    dataset,
    columns: readColumns(ctx, map, at),
    private: (readBoolean(ctx, map, at, 'private') ?? false) || folder === 'private',
    schedule: readSchedule(ctx, map, at),
    file: readString(ctx, map, at, 'file')?.trim() || undefined,
    csv: readCsvOptions(ctx, map, at),
    schemaPolicy: readEnum(ctx, map, at, 'schema_policy', SCHEMA_POLICIES) ?? 'strict',
    location: { file: ctx.file, line: ctx.lineOf(at) ?? 1 },
  };
  return id === undefined || name === undefined ? undefined : table;
}

function readWhereFilters(ctx: DocumentContext, map: YamlMap, at: YamlPath): WhereFilter[] {
  const filters: WhereFilter[] = [];
  (readList(ctx, map, at, 'where_filters') ?? []).forEach((item, i) => {
    const fAt = [...at, 'where_filters', i];
    if (!isYamlMap(item)) {
      ctx.problem(fAt, 'expected a mapping with column, operator and values');
      return;
    }
    warnUnknownKeys(ctx, item, fAt, ['column', 'operator', 'values']);
    const column = readString(ctx, item, fAt, 'column', { required: true });
    const operator = readEnum(ctx, item, fAt, 'operator', OPERATORS, { required: true });
    const values = readFilterValues(ctx, item, fAt);
    if (column !== undefined && operator !== undefined && values !== undefined) filters.push({ column, operator, values });
  });
  return filters;
}

function readFilterValues(ctx: DocumentContext, item: YamlMap, at: YamlPath): string[] | undefined {
  const raw = item.values;
  if (isAbsent(raw)) {
    ctx.problem(at, 'missing required key "values"');
    return undefined;
  }
  const list = Array.isArray(raw) ? raw : [raw];
  const values: string[] = [];
  list.forEach((value, i) => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') values.push(String(value));
    else ctx.problem([...at, 'values', ...(Array.isArray(raw) ? [i] : [])], 'expected a string or number');
  });
  if (list.length === 0) ctx.problem([...at, 'values'], 'needs at least one value');
  return values.length === list.length && values.length > 0 ? values : undefined;
}

function readForeignKeys(ctx: DocumentContext, map: YamlMap, at: YamlPath): ForeignKey[] {
  const keys: ForeignKey[] = [];
  (readList(ctx, map, at, 'foreign_keys') ?? []).forEach((item, i) => {
    const kAt = [...at, 'foreign_keys', i];
    if (!isYamlMap(item)) {
      ctx.problem(kAt, 'expected a mapping with column, references and description');
      return;
    }
    warnUnknownKeys(ctx, item, kAt, ['column', 'references', 'description']);
    const column = readString(ctx, item, kAt, 'column', { required: true });
    const references = readString(ctx, item, kAt, 'references', { required: true })?.trim();
    const dot = references?.lastIndexOf('.') ?? -1;
    if (references !== undefined && (dot <= 0 || dot === references.length - 1)) {
      ctx.problem([...kAt, 'references'], `expected "table.column", found "${references}"`);
      return;
    }
    if (column !== undefined && references !== undefined) keys.push({ column, references, description: readString(ctx, item, kAt, 'description') });
  });
  return keys;
}

function readColumns(ctx: DocumentContext, map: YamlMap, at: YamlPath): ColumnConfig[] {
  const columns: ColumnConfig[] = [];
  const seen = new Set<string>();
  (readList(ctx, map, at, 'columns') ?? []).forEach((item, i) => {
    const cAt = [...at, 'columns', i];
    let column: ColumnConfig | undefined;
    if (typeof item === 'string') {
      column = { name: item.trim() };
    } else if (isYamlMap(item)) {
      warnUnknownKeys(ctx, item, cAt, ['name', 'type', 'description']);
      const name = readString(ctx, item, cAt, 'name', { required: true })?.trim();
      const type = readString(ctx, item, cAt, 'type')?.trim().toUpperCase() || undefined;
      if (name !== undefined) column = { name, type, description: readString(ctx, item, cAt, 'description') };
    } else {
      ctx.problem(cAt, 'expected a column name or a mapping with name, type and description');
    }
    if (!column) return;
    // DuckDB column names are case-insensitive, so `Id` and `id` collide.
    if (seen.has(column.name.toLowerCase())) ctx.problem(cAt, `duplicate column "${column.name}"`);
    seen.add(column.name.toLowerCase());
    columns.push(column);
  });
  return columns;
}

function readCsvOptions(ctx: DocumentContext, map: YamlMap, at: YamlPath): CsvOptions | undefined {
  const csv = readMap(ctx, map, at, 'csv');
  if (!csv) return undefined;
  const cAt = [...at, 'csv'];
  // An unquoted `null:` key is YAML's null, which becomes the key ''.
  const options: YamlMap = { ...csv };
  if ('' in options && !('null' in options)) {
    options.null = options[''];
    delete options[''];
  }
  warnUnknownKeys(ctx, options, cAt, CSV_KEYS);
  const nonEmpty = (key: string): string | undefined => {
    const value = readString(ctx, options, cAt, key);
    if (value === '') ctx.problem([...cAt, key], 'must not be empty');
    return value === '' ? undefined : value;
  };
  const out: CsvOptions = {};
  const delimiter = nonEmpty('delimiter');
  const quote = nonEmpty('quote');
  const escape = nonEmpty('escape');
  const encoding = nonEmpty('encoding');
  const header = readBoolean(ctx, options, cAt, 'header');
  const nullString = readString(ctx, options, cAt, 'null');
  if (delimiter !== undefined) out.delimiter = delimiter;
  if (header !== undefined) out.header = header;
  if (quote !== undefined) out.quote = quote;
  if (escape !== undefined) out.escape = escape;
  if (encoding !== undefined) out.encoding = encoding;
  if (nullString !== undefined) out.null = nullString;
  const maxLineSize = readInteger(ctx, options, cAt, 'max_line_size', 1); if (maxLineSize !== undefined) out.maxLineSize = maxLineSize;
  return out;
}

function checkDuplicateNames(built: ReadonlyArray<{ table: TableConfig; raw: RawTable }>): void {
  // Names become DuckDB views (case-insensitive) and file names (case-insensitive on macOS/Windows).
  const first = new Map<string, TableConfig>();
  for (const { table, raw } of built) {
    const key = table.name.toLowerCase();
    const earlier = first.get(key);
    if (earlier) raw.ctx.problem([...raw.at, 'name'], `duplicate table name "${table.name}" (also defined at ${earlier.location.file}:${earlier.location.line})`);
    else first.set(key, table);
  }
}

function checkForeignKeyTargets(tables: readonly TableConfig[], sink: ProblemSink): void {
  const names = new Set(tables.map((t) => t.name.toLowerCase()));
  for (const table of tables) {
    for (const fk of table.foreignKeys) {
      const target = fk.references.slice(0, fk.references.lastIndexOf('.'));
      if (!names.has(target.toLowerCase())) {
        sink.warnings.push({
          file: table.location.file,
          line: table.location.line,
          message: `table "${table.name}": foreign key ${fk.column} references "${fk.references}", but no table "${target}" is defined in the data description`,
        });
      }
    }
  }
}
