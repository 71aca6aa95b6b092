// Runs dist/ada.cjs (bin/bundle.js writes it) as Node's CommonJS loader runs a file (the same wrapper, a module object
// of its own), compiled with a V8 code cache when one is given: bin/ada.js runs the command line from it, and
// bin/bundle.js makes the cache with it, so both compile the very same source text.
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * Compiles `source` (the text of `file`) with `cachedData` when given (V8 compiles from the source when the cache is
 * not for this source, V8 version or flags) and runs it; returns the module's exports and the compiled script.
 */
export function runBundle(file, source, cachedData) {
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const mod = new Module(file);
  mod.filename = file;
  // The bundle's import() of a package it leaves out (bin/bundle.js): this module's, since the script's own may be lost
  // with its code cache. Both resolve a package from the same node_modules.
  mod.adaImport = (specifier) => import(specifier);
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, script };
}
