/** The one schema all chunks of a CSV table run share: declared columns, or types DuckDB detects over every matched file. */
import type { ColumnConfig, TableConfig } from '../../config/index.ts';
import { adaError } from '../../events/index.ts';
import { normaliseDuckType, publishedType } from '../../pipeline/index.ts';
import type { PublishedType } from '../../pipeline/index.ts';
import { CSV_INVALID } from './table-files.ts';

/** One output column. */
export interface ColumnPlan {
  name: string;
  type: PublishedType;
  /** True when the type comes from the table's `columns`, false when DuckDB detected it. */
  declared: boolean;
  description?: string;
}

/** What detection learnt about one file. */
export interface FileShape {
  relativePath: string;
  /** Column names in file order: the header, or `column0…` without one; empty for an empty file. */
  names: string[];
  /** Detected types by column name (absent when the file was not sniffed). */
  detected?: Map<string, DetectedColumn>;
  dateFormat?: string;
  timestampFormat?: string;
}

export interface DetectedColumn {
  type: PublishedType;
  /** No non-empty value in the sample, so the type says nothing (DuckDB reports such columns as VARCHAR). */
  empty?: boolean;
}

/** Types DuckDB's sniffer may choose from: exactly the published ones. */
export const TYPE_CANDIDATES: PublishedType[] = ['BOOLEAN', 'BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP', 'TIMESTAMPTZ', 'VARCHAR'];

/** The table's declared columns, or undefined when it declares none. */
export function declaredColumns(table: TableConfig): ColumnConfig[] | undefined {
  return table.columns.length > 0 ? table.columns : undefined;
}

/** True when some column's type must be detected. */
export function needsDetection(table: TableConfig): boolean {
  const declared = declaredColumns(table);
  return declared === undefined || declared.some((c) => c.type === undefined || c.type.trim() === '');
}

/** Column names for a file from its first record: header names (empty → `columnN`, repeats → `name_1`), or `column0…` without a header. */
export function columnNames(fields: string[], header: boolean): string[] {
  if (!header) return fields.map((_f, i) => `column${i}`);
  const seen = new Map<string, number>();
  return fields.map((raw, i) => {
    const base = raw === '' ? `column${i}` : raw;
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count === 0 ? base : `${base}_${count}`;
  });
}

/**
 * Checks each file against the declared columns (with a header: the same names, any order; without: the same count)
 * and returns the declared schema, filling undeclared types from detection.
 */
export function declaredSchema(table: TableConfig, declared: ColumnConfig[], shapes: FileShape[], header: boolean): ColumnPlan[] {
  const names = declared.map((c) => c.name);
  for (const shape of shapes) {
    if (shape.names.length === 0) continue;
    if (header) {
      const missing = names.filter((n) => !shape.names.includes(n));
      const unexpected = shape.names.filter((n) => !names.includes(n));
      if (missing.length > 0 || unexpected.length > 0) {
        const parts = [
          missing.length > 0 ? `missing ${missing.map((n) => JSON.stringify(n)).join(', ')}` : '',
          unexpected.length > 0 ? `unexpected ${unexpected.map((n) => JSON.stringify(n)).join(', ')}` : '',
        ].filter(Boolean);
        throw adaError(CSV_INVALID, `CSV file "${shape.relativePath}" line 1: the header does not match the declared columns of table ${table.id}: ${parts.join('; ')}`, {
          table: table.id, file: shape.relativePath, line: 1, missing, unexpected,
        });
      }
    } else if (shape.names.length !== names.length) {
      throw adaError(CSV_INVALID, `CSV file "${shape.relativePath}" line 1: ${shape.names.length} fields, but table ${table.id} declares ${names.length} columns`, {
        table: table.id, file: shape.relativePath, line: 1,
      });
    }
  }
  return declared.map((c, i) => {
    const hasType = c.type !== undefined && c.type.trim() !== '';
    // Without a header, detection names columns by position.
    const key = header ? c.name : `column${i}`;
    const type = hasType ? publishedType(c.type) : mergeDetected(shapes.map((s) => s.detected?.get(key)));
    const plan: ColumnPlan = { name: c.name, type, declared: hasType };
    if (c.description !== undefined) plan.description = c.description;
    return plan;
  });
}

/** The detected schema: the union of all files' columns by name (first-seen order), each with the widest type any file needs. */
export function detectedSchema(table: TableConfig, shapes: FileShape[]): ColumnPlan[] {
  const order: string[] = [];
  for (const shape of shapes) for (const n of shape.names) if (!order.includes(n)) order.push(n);
  if (order.length === 0) {
    throw adaError(CSV_INVALID, `Table ${table.id}: its CSV files are empty, so there are no columns to detect; add data or declare \`columns\``, { table: table.id });
  }
  return order.map((name) => ({ name, type: mergeDetected(shapes.map((s) => s.detected?.get(name))), declared: false }));
}

/** The narrowest published type every file's values fit: BIGINT+DOUBLE → DOUBLE, DATE+TIMESTAMP → TIMESTAMP, …; else VARCHAR. */
export function mergeDetected(columns: Array<DetectedColumn | undefined>): PublishedType {
  let merged: PublishedType | undefined;
  for (const c of columns) {
    if (c === undefined || c.empty) continue;
    merged = merged === undefined ? c.type : widen(merged, c.type);
  }
  return merged ?? 'VARCHAR';
}

const WIDENINGS: Record<string, PublishedType> = {
  'BIGINT+DOUBLE': 'DOUBLE',
  'DATE+TIMESTAMP': 'TIMESTAMP',
  'DATE+TIMESTAMPTZ': 'TIMESTAMPTZ',
  'TIMESTAMP+TIMESTAMPTZ': 'TIMESTAMPTZ',
};

function widen(a: PublishedType, b: PublishedType): PublishedType {
  if (a === b) return a;
  return WIDENINGS[[a, b].sort().join('+')] ?? 'VARCHAR';
}

/** Maps a type DuckDB's sniffer reported to a published type. */
export function detectedType(duckType: string): PublishedType {
  return normaliseDuckType(duckType);
}
