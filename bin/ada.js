#!/usr/bin/env node
// Entry point of the `ada` command. Runs the compiled build (dist/, made by `npm run build`, which
// `npm install` runs) when no source file changed since it was built, else the TypeScript sources through tsx,
// so an edited checkout never runs stale code. ADA_FROM_SOURCE=1 forces the sources.
// Node runs with no V8 flag: under any (heap sizes included), V8 rejects the code cache Node ships for its own
// modules, and each one a command loads (the ES module loader, net, streams, …) is compiled from its source: with
// the 64 MB semi-spaces this line used to set, `ada --version` took 66 ms instead of 54, a sync answered by a running
// server 169 instead of 140, and a replay or a served Jira webhook gained nothing measurable (docs/benchmarks.md,
// startup, sixth round).
import { readFileSync, realpathSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

// dist/.build-stamp (bin/build-stamp.js) lists every source directory and file of the build with the newest of their
// times: stat-ing those paths (no directory walk, no type-stripping) tells an edited, added or removed source apart.
function buildIsFresh() {
  try {
    const { newest, dirs, files } = JSON.parse(readFileSync(path.join(root, 'dist', '.build-stamp'), 'utf8'));
    // `root` ends with a separator and the listed paths are relative and normal: a concatenation, not path.join's
    // normalisation, which costs about as much as the stat itself over the few hundred paths.
    for (const list of [dirs, files]) {
      for (const p of list) if (statSync(root + p).mtimeMs > newest) return false;
    }
    return true;
  } catch {
    // No stamp, an older stamp format, or a listed source gone: run the sources.
    return false;
  }
}

// rxjs resolves, for Node, to its CommonJS build: about 220 files, read and compiled one by one before the first line
// of ours runs. Its single-file build (the same version and API, shipped in the package) stands in its place in the
// module cache, loaded on first use, so every `import ... from 'rxjs'` of this process gets it for a tenth of the
// loading work, and a command that never uses rxjs (`ada sync` answered by a running server) loads neither. Should
// the package's layout change, nothing is registered and the usual build loads.
function preferRxjsBundle() {
  try {
    // Where `npm install` puts it (resolving 'rxjs' through its exports map costs more than the rest of this);
    // real paths, as the module cache keys them. Elsewhere (a hoisted install) the stat fails and the usual build loads.
    const dir = realpathSync(path.join(root, 'node_modules', 'rxjs'));
    const index = path.join(dir, 'dist', 'cjs', 'index.js');
    const bundle = path.join(dir, 'dist', 'bundles', 'rxjs.umd.min.js');
    const require = createRequire(import.meta.url);
    if (!statSync(index).isFile() || !statSync(bundle).isFile() || require.cache[index]) return;
    const stand = new Module(index);
    stand.filename = index;
    stand.loaded = true;
    let exports;
    Object.defineProperty(stand, 'exports', { get: () => (exports ??= require(bundle)), set: (v) => {
      exports = v;
    }, configurable: true });
    require.cache[index] = stand;
  } catch {
    // The usual build.
  }
}

/**
 * The command line from dist/ada.cjs (written by bin/bundle.js): one file instead of some 400 modules (ours, yaml,
 * rxjs, DuckDB's API, …) each resolved, read and compiled on its own, compiled with V8's code cache of it
 * (dist/ada.cjs.cache) when V8 accepts that. Undefined when the build made no bundle. ops/command-main.ts loads it
 * for the commands that need more than it loads itself.
 */
async function loadBundle() {
  const file = path.join(root, 'dist', 'ada.cjs');
  let source;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    // Compiled from the source alone.
  }
  const { runBundle } = await import('./run-bundle.js');
  return runBundle(file, source, cachedData).exports;
}

let cli;
let options = {};
preferRxjsBundle();
if (process.env.ADA_FROM_SOURCE !== '1' && buildIsFresh()) {
  cli = await import('../dist/ops/command-main.js');
  options = { bundled: loadBundle };
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../ops/command-main.ts');
}
await cli.runFromProcess(options);
