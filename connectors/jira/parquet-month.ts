/** Writes one month of one Jira table as Parquet: Arrow vectors built in JS, encoded by parquet-wasm, published atomically. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Bool, Field, Int64, List, Table, TimestampMillisecond, Utf8, makeData, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
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

/**
 * The validity bitmap of `values` (bit set = not null) and the count of nulls; no bitmap when nothing is null.
 * Arrow's builders (`vectorFromArray`) did this and the rest per value, and made a validity function per
 * vector with `new Function`: most of a month's encoding time.
 */
function validity(values: readonly unknown[]): { nullBitmap?: Uint8Array; nullCount: number } {
  let nullCount = 0;
  for (const v of values) if (v === null || v === undefined) nullCount++;
  if (nullCount === 0) return { nullCount };
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null && v !== undefined) nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount };
}

/** A Utf8 vector: the strings encoded once as one buffer, their offsets from their UTF-8 lengths. */
function utf8Vector(values: ReadonlyArray<string | null>): Vector {
  const valueOffsets = new Int32Array(values.length + 1);
  const present: string[] = [];
  let end = 0;
  values.forEach((v, i) => {
    if (v !== null) {
      present.push(v);
      end += Buffer.byteLength(v, 'utf8');
    }
    valueOffsets[i + 1] = end;
  });
  let data = Buffer.from(present.join(''), 'utf8');
  // Joined, a string ending in half a surrogate pair and the next starting with the other half encode as one
  // character, not two replacements: then each string is encoded alone (the lengths above count them so).
  if (data.length !== end) data = Buffer.concat(present.map((v) => Buffer.from(v, 'utf8')));
  return makeVector(makeData({ type: new Utf8(), length: values.length, ...validity(values), valueOffsets, data }));
}

function vector(column: JiraColumn, rows: readonly Row[]): Vector {
  const values = rows.map((r) => r[column.name] ?? null);
  const length = values.length;
  switch (column.kind) {
    case 'string':
      return utf8Vector(values.map((v) => (v === null ? null : String(v))));
    case 'int':
    case 'timestamp': {
      const data = new BigInt64Array(length);
      values.forEach((v, i) => {
        if (v !== null) data[i] = BigInt(Math.trunc(Number(v)));
      });
      const type = column.kind === 'int' ? new Int64() : new TimestampMillisecond();
      return makeVector(makeData({ type, length, ...validity(values), data } as never));
    }
    case 'bool': {
      const data = new Uint8Array((length + 7) >> 3);
      values.forEach((v, i) => {
        if (v === true) data[i >> 3]! |= 1 << (i & 7);
      });
      return makeVector(makeData({ type: new Bool(), length, ...validity(values), data }));
    }
    case 'strings':
      return vectorFromArray(values.map((v) => v ?? []) as never[], arrowType(column.kind));
  }
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
