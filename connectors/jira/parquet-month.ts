/** Writes one month of one Jira table as Parquet: Arrow vectors built in JS, encoded by parquet-wasm, published atomically. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Bool, Field, Int64, List, Table, TimestampMillisecond, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import type { DataType, Vector } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { fsyncDir } from '../../events/index.ts';
import type { ColumnKind, JiraColumn, Row } from './tables.ts';

/** What was written: size and checksum of the file. */
export interface WrittenFile { bytes: number; sha256: string; rows: number }

function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case 'string': return new Utf8();
    case 'int': return new Int64();
    case 'timestamp': return new TimestampMillisecond();
    case 'bool': return new Bool();
    case 'strings': return new List(new Field('item', new Utf8(), true));
  }
}

function vector(column: JiraColumn, rows: readonly Row[]): Vector {
  const values = rows.map((r) => {
    const v = r[column.name] ?? null;
    if (v === null) return column.kind === 'strings' ? [] : null;
    return column.kind === 'int' ? BigInt(Math.trunc(Number(v))) : v;
  });
  return vectorFromArray(values as never[], arrowType(column.kind));
}

/** Parquet bytes of `rows` with exactly `columns` (zstd-compressed). */
export function encodeParquet(columns: readonly JiraColumn[], rows: readonly Row[]): Uint8Array {
  const table = new Table(Object.fromEntries(columns.map((c) => [c.name, vector(c, rows)])));
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.ZSTD).build();
  return parquet.writeParquet(wasmTable, props);
}

/**
 * Writes `bytes` to `file` atomically: temp file in the same folder, fsync, rename, then fsync of the folder
 * unless the caller syncs it once after several files (`syncDir: false`).
 */
export async function publishFile(file: string, bytes: Uint8Array, opts: { syncDir?: boolean } = {}): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    // Only a failed write leaves the temp file (after the rename there is none to remove).
    await rm(tmp, { force: true });
    throw err;
  }
  if (opts.syncDir !== false) await fsyncDir(dir);
}

/** One month file encoded: its bytes, and the size and checksum it will be published with. */
export function encodeMonth(columns: readonly JiraColumn[], rows: readonly Row[]): WrittenFile & { data: Uint8Array } {
  const data = encodeParquet(columns, rows);
  return { data, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), rows: rows.length };
}

/** Encodes and publishes one month file; returns its size and checksum. */
export async function writeMonth(file: string, columns: readonly JiraColumn[], rows: readonly Row[], opts: { syncDir?: boolean } = {}): Promise<WrittenFile> {
  const { data, ...written } = encodeMonth(columns, rows);
  await publishFile(file, data, opts);
  return written;
}
