/**
 * Creates DuckDB instances. `@duckdb/node-api` is CommonJS: imported from an ES module, Node parses every one of its
 * 180 files for their export names before a line runs (about 90 ms of CPU on this machine, as much again as
 * `require` takes to load them), so it is required instead, on first use: a process that never opens an instance
 * (`ada --help`, a served `ada sync`, a worker that only reads) does not load it at all.
 */
import Module, { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';
import type * as DuckDBBindings from '@duckdb/node-bindings';

let duckdb: typeof DuckDB | undefined;
let bindings: typeof DuckDBBindings | undefined;
let nativeChosen = false;

/**
 * `@duckdb/node-bindings` loads the native library of the platform's binding package and, on Linux, first asks
 * detect-libc whether the C library is musl: detect-libc requires node:child_process (with net and dgram) and reads
 * the ELF header of the node binary, about 5 ms of every process that opens DuckDB. npm installs only the binding
 * packages whose `os`, `cpu` and `libc` fit the machine, so when just one of this platform's glibc and musl packages
 * can be found from where the bindings package would look, it is the one: its library is registered in the module
 * cache as `@duckdb/node-bindings` (the module's whole export), which the API package then requires. With both or
 * neither there, or anything unexpected, nothing is registered and the package's own loader decides.
 */
function chooseNativeBinding(): void {
  if (nativeChosen) return;
  nativeChosen = true;
  if (process.platform !== 'linux') return;
  try {
    const req = createRequire(import.meta.url);
    const main = req.resolve('@duckdb/node-bindings');
    if (req.cache[main]) return;
    const fromBindings = createRequire(main);
    const found = [`@duckdb/node-bindings-linux-${process.arch}`, `@duckdb/node-bindings-linux-${process.arch}-musl`].flatMap((pkg) => {
      try {
        return [fromBindings.resolve(`${pkg}/duckdb.node`)];
      } catch {
        return [];
      }
    });
    if (found.length !== 1) return;
    const stand = new Module(main);
    stand.filename = main;
    stand.exports = fromBindings(found[0]!) as unknown;
    stand.loaded = true;
    req.cache[main] = stand;
  } catch {
    // The package's own loader.
  }
}

/** The `@duckdb/node-api` module, loaded on first call. */
export function duckdbModule(): typeof DuckDB {
  if (!duckdb) chooseNativeBinding();
  return (duckdb ??= createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB);
}

/**
 * The C API bindings under `@duckdb/node-api` (the same version, which the API package pins), loaded on first call:
 * the few places that read a vector's raw bytes (see row-hash-tap.ts) use them, where the API would box every value.
 */
export function duckdbBindings(): typeof DuckDBBindings {
  if (!bindings) chooseNativeBinding();
  return (bindings ??= createRequire(import.meta.url)('@duckdb/node-bindings') as typeof DuckDBBindings);
}

/** `DuckDBInstance.create`, with the package loaded on first call. */
export function createDuckDBInstance(path: string, options?: Record<string, string>): Promise<DuckDB.DuckDBInstance> {
  return duckdbModule().DuckDBInstance.create(path, options);
}
