/**
 * The row hash of a merged file, taken while DuckDB writes it: a volatile scalar function in the COPY's select list sums
 * the rows' DuckDB hashes as they pass, so the file is not scanned again for them (a second decode of every row, about
 * a fifth of a 5M-row upsert's CPU).
 *
 * The function `__ada_row_tap(token, hash)` returns true and adds `hash` to the sum of the tap `token`; a COPY wraps
 * its first column in `CASE WHEN __ada_row_tap(…) THEN column END`, which keeps the column's values and type and makes
 * DuckDB evaluate the function once per written row. DuckDB runs it on its worker threads through a thread-safe call
 * into this (the main) thread, a 2048-row vector at a time: 8 bytes a row cross into JavaScript, no row data. Each
 * call waits for the event loop, so a loop kept busy for long holds the COPY back. A merge of 5M rows makes about
 * 2,500 calls; the tap costs about 0.3 s of CPU on DuckDB's threads (its `hash` of every row) and 0.12 s on the main
 * thread (the calls), against about 0.65 s for a scan of the written file (this 2-core machine).
 *
 * The sum is the one `sum(hash(r))` over the written file gives (DuckDB's hash of the row, summed exactly); the caller
 * compares the tap's row count with the file's footer and scans the file instead when they differ, so a plan that
 * ran the function on rows it did not write (or skipped some) costs a scan, never a wrong hash.
 *
 * A merge onto a file whose sum is recorded does not hash every row: the sum is exact (an unbounded integer, no
 * wraparound), so the merged file's is the old file's, minus the rows the merge drops, plus the rows it adds, and taps
 * on those two sets are enough (see copyMerge in write-table.ts).
 */
import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSchema } from '../../../events/index.ts';
import { duckdbBindings, duckdbModule } from '../../duckdb-instance.ts';
import { quoteIdentifier as q } from '../../sql/where-filters.ts';

/** Name of the scalar function; schema-merge.ts refuses source columns with the `__ada_` prefix, and this is no column. */
const TAP_FUNCTION = '__ada_row_tap';

/** Rows and the exact sum of their DuckDB row hashes, as a scan's `count(*)` and `sum(hash(r))` would give. */
export interface RowSum {
  rows: number;
  sum: bigint;
}

/**
 * A merged file's row hash from its row count, the sum of its rows' DuckDB hashes (decimal) and the schema: what names
 * the file in its `contentSha`.
 */
export function rowContentSha(rows: string, hashSum: string, schema: ColumnSchema[]): string {
  return createHash('sha256').update(`${rows}:${hashSum}:${JSON.stringify(schema.map((s) => [s.name, s.type]))}`).digest('hex');
}

/** One tap: the SQL to put in a COPY's select list, and its sum once the COPY is done. */
export interface OpenTap {
  /** `column` of `columns` (all the written columns, in order) wrapped so that every written row is summed. */
  wrap(column: string, columns: string[]): string;
  /** A BOOLEAN expression, always true, that adds the row of `columns` of the relation aliased `alias` to the sum. */
  call(columns: string[], alias: string): string;
  /** The rows summed so far; call once the COPY finished, then the tap is gone. */
  close(): RowSum;
}

/** Row-hash taps over one DuckDB instance; register once, open one per COPY (taps may be open at once). */
export class RowHashTaps {
  readonly #open = new Map<number, { rows: number; sum: bigint }>();
  #next = 1;

  private constructor() {}

  /** Registers the tap function in the instance's catalog (every connection of it sees the function). */
  static register(conn: DuckDBConnection): RowHashTaps {
    const taps = new RowHashTaps();
    const { DuckDBScalarFunction, BOOLEAN, INTEGER, UBIGINT } = duckdbModule();
    const bindings = duckdbBindings();
    const fn = new DuckDBScalarFunction();
    fn.setName(TAP_FUNCTION);
    fn.setReturnType(BOOLEAN);
    fn.addParameter(INTEGER);
    fn.addParameter(UBIGINT);
    fn.setVolatile();
    // The bindings' own callback rather than the API's: the API wraps the chunk and the output in objects and sets the
    // output row by row (BigInt validity checks included), which cost more than the sum: for a 5M-row merge the main
    // thread's CPU went from about 225 ms to 120 ms, most of what is left being the thread-safe calls themselves.
    bindings.scalar_function_set_function(fn.scalar_function, (info, chunk, result) => {
      const n = bindings.data_chunk_get_size(chunk);
      if (n === 0) return;
      // The C API hands a scalar function flat vectors: n tokens (all equal), n hashes.
      const token = new DataView(copyOf(bindings.vector_get_data(bindings.data_chunk_get_vector(chunk, 0), 4))).getInt32(0, true);
      const acc = taps.#open.get(token);
      if (!acc) {
        bindings.scalar_function_set_error(info, `${TAP_FUNCTION}: tap ${token} is not open`);
        return;
      }
      const bytes = bindings.vector_get_data(bindings.data_chunk_get_vector(chunk, 1), n * 8);
      const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, n * 2) : new Uint32Array(copyOf(bytes));
      // Low and high 32-bit halves summed as doubles: at most 2048 × 2^32 < 2^53 per vector, so exact.
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < 2 * n; i += 2) {
        lo += words[i]!;
        hi += words[i + 1]!;
      }
      acc.sum += BigInt(lo) + (BigInt(hi) << 32n);
      acc.rows += n;
      // Every output row true and valid: the column the tap wraps keeps its values.
      if (n > output.rows) output = allTrue(n);
      bindings.copy_data_to_vector(result, 0, output.values, 0, n);
      if (bindings.vector_get_validity(result, validityBytes(n))) bindings.copy_data_to_vector_validity(result, 0, output.validity, 0, validityBytes(n));
    });
    conn.registerScalarFunction(fn);
    return taps;
  }

  /** Opens a tap for one COPY. */
  open(): OpenTap {
    const token = this.#next++;
    if (this.#next > 0x7fffffff) this.#next = 1;
    this.#open.set(token, { rows: 0, sum: 0n });
    return {
      wrap: (column, columns) => `CASE WHEN ${TAP_FUNCTION}(${token}, hash(struct_pack(${columns.map(q).join(', ')}))) THEN ${q(column)} END AS ${q(column)}`,
      call: (columns, alias) => `${TAP_FUNCTION}(${token}, hash(struct_pack(${columns.map((c) => `${q(c)} := ${alias}.${q(c)}`).join(', ')})))`,
      close: () => {
        const acc = this.#open.get(token) ?? { rows: 0, sum: 0n };
        this.#open.delete(token);
        return { rows: acc.rows, sum: acc.sum };
      },
    };
  }
}

/** Output of `rows` rows, all true and valid (DuckDB stores a BOOLEAN in one byte); grown when a call brings more. */
let output = allTrue(2048);

function allTrue(rows: number): { rows: number; values: ArrayBuffer; validity: ArrayBuffer } {
  return { rows, values: new Uint8Array(rows).fill(1).buffer, validity: new Uint8Array(validityBytes(rows)).fill(0xff).buffer };
}

/** Bytes of the validity mask of `n` rows (64-bit words). */
function validityBytes(n: number): number {
  return Math.ceil(n / 64) * 8;
}

/** An aligned copy of a vector's bytes (the binding's buffer may start at any offset). */
function copyOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
