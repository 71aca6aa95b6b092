/**
 * Creates DuckDB instances. `@duckdb/node-api` is CommonJS: imported from an ES module, Node parses every one of its
 * 180 files for their export names before a line runs (about 90 ms of CPU on this machine, as much again as
 * `require` takes to load them), so it is required instead, on first use: a process that never opens an instance
 * (`ada --help`, a served `ada sync`, a worker that only reads) does not load it at all.
 */
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';
import type * as DuckDBBindings from '@duckdb/node-bindings';

let duckdb: typeof DuckDB | undefined;
let bindings: typeof DuckDBBindings | undefined;

/** The `@duckdb/node-api` module, loaded on first call. */
export function duckdbModule(): typeof DuckDB {
  return (duckdb ??= createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB);
}

/**
 * The C API bindings under `@duckdb/node-api` (the same version, which the API package pins), loaded on first call:
 * the few places that read a vector's raw bytes (see row-hash-tap.ts) use them, where the API would box every value.
 */
export function duckdbBindings(): typeof DuckDBBindings {
  return (bindings ??= createRequire(import.meta.url)('@duckdb/node-bindings') as typeof DuckDBBindings);
}

/** `DuckDBInstance.create`, with the package loaded on first call. */
export function createDuckDBInstance(path: string, options?: Record<string, string>): Promise<DuckDB.DuckDBInstance> {
  return duckdbModule().DuckDBInstance.create(path, options);
}
