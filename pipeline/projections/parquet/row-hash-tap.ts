/**
 * The row hash of a merged file, taken while DuckDB writes it: a volatile scalar function in the COPY's select list sums
 * the rows' DuckDB hashes as they pass, so the file is not scanned again for them (a second decode of every row, about
 * a fifth of a 5M-row upsert's CPU).
 *
 * The function `__ada_row_tap(token, hash)` returns true and adds `hash` to the sum of the tap `token`; a COPY wraps
 * its first column in `CASE WHEN __ada_row_tap(…) THEN column END`, which keeps the column's values and type and makes
 * DuckDB evaluate the function once per written row. DuckDB runs it on its worker threads through a thread-safe call
 * into this (the main) thread, a 2048-row vector at a time: 8 bytes a row cross into JavaScript, no row data. Each
 * call waits for the event loop, so a loop kept busy for long holds the COPY back; the calls themselves cost about
 * what DuckDB's hashing does (a merge of 5M rows: 0–150 ms of CPU over the plain COPY, against about 450 ms to scan).
 *
 * The sum is the one `sum(hash(r))` over the written file gives (DuckDB's hash of the row, summed exactly); the caller
 * compares the tap's row count with the file's footer and scans the file instead when they differ, so a plan that
 * ran the function on rows it did not write (or skipped some) costs a scan, never a wrong hash.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbBindings, duckdbModule } from '../../duckdb-instance.ts';
import { quoteIdentifier as q } from '../../sql/where-filters.ts';

/** Name of the scalar function; schema-merge.ts refuses source columns with the `__ada_` prefix, and this is no column. */
const TAP_FUNCTION = '__ada_row_tap';

/** Rows and the exact sum of their DuckDB row hashes, as a scan's `count(*)` and `sum(hash(r))` would give. */
export interface RowSum {
  rows: number;
  sum: bigint;
}

/** One tap: the SQL to put in a COPY's select list, and its sum once the COPY is done. */
export interface OpenTap {
  /** `column` of `columns` (all the written columns, in order) wrapped so that every written row is summed. */
  wrap(column: string, columns: string[]): string;
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
    const fn = DuckDBScalarFunction.create({
      name: TAP_FUNCTION, returnType: BOOLEAN, parameterTypes: [INTEGER, UBIGINT], volatile: true,
      mainFunction: (info, input, output) => {
        const n = input.rowCount;
        // The C API hands a scalar function flat vectors: n tokens (all equal), n hashes.
        const token = new DataView(copyOf(bindings.vector_get_data(bindings.data_chunk_get_vector(input.chunk, 0), 4))).getInt32(0, true);
        const acc = taps.#open.get(token);
        if (!acc) {
          info.setError(`${TAP_FUNCTION}: tap ${token} is not open`);
          return;
        }
        const words = new Uint32Array(copyOf(bindings.vector_get_data(bindings.data_chunk_get_vector(input.chunk, 1), n * 8)));
        // Low and high 32-bit halves summed as doubles: at most 2048 × 2^32 < 2^53 per vector, so exact.
        let lo = 0;
        let hi = 0;
        for (let i = 0; i < n; i++) {
          lo += words[2 * i]!;
          hi += words[2 * i + 1]!;
        }
        acc.sum += BigInt(lo) + (BigInt(hi) << 32n);
        acc.rows += n;
        for (let i = 0; i < n; i++) output.setItem(i, true);
        output.flush();
      },
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
      close: () => {
        const acc = this.#open.get(token) ?? { rows: 0, sum: 0n };
        this.#open.delete(token);
        return { rows: acc.rows, sum: acc.sum };
      },
    };
  }
}

/** An aligned copy of a vector's bytes (the binding's buffer may start at any offset). */
function copyOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
