/** The CSV connector's configuration: `data_source.csv.dir`, and each table's `file` and `csv` options. */
import path from 'node:path';
import { readBoolean, readInteger, readMap, readString, warnUnknownKeys } from '../../config/index.ts';
import type { ConnectorConfigDeclaration, DocumentContext, YamlMap, YamlPath } from '../../config/index.ts';
import { tablePatternProblem } from './table-files.ts';

/** Per-table CSV parsing options. */
export interface CsvOptions {
  delimiter?: string;
  header?: boolean;
  quote?: string;
  escape?: string;
  encoding?: string;
  null?: string;
  /** Longest record DuckDB's reader accepts, in bytes (`csv.max_line_size`). */
  maxLineSize?: number;
}

/** `data_source.csv`: the folder the tables' `file` paths are relative to (absolute once loaded). */
export interface CsvSettings {
  dir: string;
}

declare module '../../config/types.ts' {
  interface DataSourceSections {
    csv?: CsvSettings;
  }
  interface TableSourceOptions {
    /** CSV: path or glob relative to the CSV directory. */
    file?: string;
    csv?: CsvOptions;
  }
}

/** Every key of a table's `csv` options. */
export const CSV_KEYS = ['delimiter', 'header', 'quote', 'escape', 'encoding', 'null', 'max_line_size'];

/** The CSV section is read whenever present: a CSV folder may add tables to an instance whose main source is another. */
export const csvConfig: ConnectorConfigDeclaration = {
  type: 'csv',
  label: 'CSV',
  section: { in: 'data_source' },
  primary: true,
  readWhen: 'present',
  readSection(csv, { ctx, at, configDir }): CsvSettings | undefined {
    warnUnknownKeys(ctx, csv, at, ['dir']);
    const dir = readString(ctx, csv, at, 'dir', { required: true });
    return dir === undefined ? undefined : { dir: path.resolve(configDir, dir) };
  },
  tableKeys: ['file', 'csv'],
  readTable(map, { ctx, at, source, settings }) {
    const file = readString(ctx, map, at, 'file')?.trim() || undefined;
    const dir = (settings as CsvSettings | undefined)?.dir;
    // The sync refuses such a file too; saying so here lets `ada config check` catch it before a run.
    if (file !== undefined && dir !== undefined && source === 'csv') {
      const problem = tablePatternProblem(dir, file);
      if (problem) ctx.problem([...at, 'file'], problem);
    }
    return { file, csv: readCsvOptions(ctx, map, at) };
  },
};

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
  const maxLineSize = readInteger(ctx, options, cAt, 'max_line_size', 1);
  if (maxLineSize !== undefined) out.maxLineSize = maxLineSize;
  return out;
}
