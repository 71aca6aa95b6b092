#!/usr/bin/env node
// Writes dist/ada.cjs, the whole command line in one CommonJS file, and dist/ada.cjs.cache, V8's code cache of it
// (run by `npm run build` after `tsc`). bin/ada.js runs them when dist/ is fresh: a standalone `ada sync` otherwise
// resolves, reads and compiles some 170 ES modules of ours, yaml's 74 files, DuckDB's 180 and proper-lockfile's, one
// by one, which was most of its start-up. The bundle holds the compiled modules exactly as dist/ has them: each
// keeps its own import.meta.url (the path of its file in dist/), and what the sources import lazily is still
// evaluated on first use. The packages a sync needs are bundled; every other package (fastify, the MCP SDK, Arrow,
// parquet-wasm, …) stays a require of its own, loaded only by the commands that use it.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBundle } from './run-bundle.js';

/** Packages bundled into dist/ada.cjs (with what they require): the ones a standalone `ada sync` loads. */
export const BUNDLED_PACKAGES = ['yaml', 'rxjs', 'proper-lockfile', 'write-file-atomic', '@duckdb/node-api', 'cron-parser', 'aws4'];

const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** The name of the bundle and of its code cache in `dist`. */
export const bundlePaths = (dist) => ({ bundle: path.join(dist, 'ada.cjs'), cache: path.join(dist, 'ada.cjs.cache') });

/** Bundles `dist/ops/command-main.js` into dist/ada.cjs and writes its code cache; removes both when esbuild is missing. */
export async function bundle(root) {
  const dist = path.join(root, 'dist');
  const { bundle: out, cache } = bundlePaths(dist);
  rmSync(out, { force: true });
  rmSync(cache, { force: true });
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    process.stderr.write('bin/bundle.js: esbuild is not installed; ada runs dist/ module by module (a slower start)\n');
    return false;
  }
  const distUrl = (file) => JSON.stringify(path.relative(dist, file).split(path.sep).join('/'));
  const rxjsEsm = path.join(path.dirname(createRequire(path.join(root, 'package.json')).resolve('rxjs/package.json')), 'dist', 'esm', 'index.js');
  const ours = {
    name: 'ada-dist',
    setup(build) {
      // rxjs resolves, for Node, to its CommonJS build: some 220 modules, all evaluated at the first import. Its ES
      // build (the same version and code, shipped in the package) lets esbuild keep only the parts we use.
      build.onResolve({ filter: /^rxjs$/ }, (args) => (args.importer.startsWith(dist + path.sep) ? { path: rxjsEsm } : undefined));
      // Packages not in the list stay requires of their own; ours and the bundled packages' own requires are followed.
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || !args.importer.startsWith(dist + path.sep)) return undefined;
        return BUNDLED_PACKAGES.includes(packageOf(args.path)) ? undefined : { path: args.path, external: true };
      });
      build.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(dist + path.sep)) return undefined;
        const rel = distUrl(args.path);
        const contents = readFileSync(args.path, 'utf8')
          // A package required lazily (`createRequire(import.meta.url)('x')`) is bundled, still evaluated on first use.
          .replace(/createRequire\(import\.meta\.url\)\(/g, 'require(')
          .replace(/import\.meta\.url/g, `__adaFileUrl(${rel})`)
          .replace(/import\.meta\.resolve/g, `__adaResolve`)
          // A package the bundle leaves out, imported as an ES module (the MCP SDK, ws): through the runner's import(). A
          // script compiled from a code cache that another process made has lost its dynamic import callback (Node 20:
          // ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so an import() of the bundle's own fails whenever V8 takes the cache.
          .replace(/\bimport\((["'])([^"'./][^"']*)\1\)/g, (call, quote, specifier) => (specifier.startsWith('node:') || BUNDLED_PACKAGES.includes(packageOf(specifier)) ? call : `__adaImport(${quote}${specifier}${quote})`))
          // esbuild writes non-ASCII characters as escapes, except in tagged templates (an escape changes their `raw`
          // strings): the portal's html`…` templates would make the whole bundle a two-byte string, twice the memory
          // and slower to read at every start. Ours use the cooked strings only (no String.raw), which an escape keeps;
          // a character after a backslash stays as it is.
          .replace(/(?<!\\)[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
        return { contents, loader: 'js' };
      });
    },
  };
  await esbuild.build({
    entryPoints: [path.join(dist, 'ops', 'command-main.js')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    // @duckdb/node-api's bindings load the native library for this platform: a require of their own.
    external: ['@duckdb/node-bindings', '@duckdb/node-bindings-*'],
    plugins: [ours],
    banner: {
      js: [
        '"use strict";',
        // import.meta of each module, as dist/ has it: its own file's URL.
        'const __adaFileUrl = (rel) => require("node:url").pathToFileURL(require("node:path").join(__dirname, rel)).href;',
        'const __adaResolve = (specifier) => require("node:url").pathToFileURL(require.resolve(specifier)).href;',
        // bin/run-bundle.js hands its own import() in as module.adaImport.
        'const __adaImport = (specifier) => module.adaImport(specifier);',
      ].join('\n'),
    },
    // Less to read at every start: no comments or indentation (names are kept, for stack traces).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  // An import() left in the bundle fails whenever V8 takes the code cache (above): only the worker threads' code, run
  // as their own scripts, may have one (node's modules, the entry in workerData).
  const stray = readFileSync(out, 'utf8').match(/\bimport\((?!['"]node:|workerData\.)[^)]{0,60}/g);
  if (stray) {
    rmSync(out, { force: true });
    throw new Error(`bin/bundle.js: the bundle would call ${stray.map((s) => `${s})`).join(', ')}: import a package the bundle leaves out by a literal name (it goes through bin/run-bundle.js), or require() it`);
  }
  // The code cache is V8's, for the flags it was made with: made by a process started as bin/ada.js starts.
  const flags = readFileSync(path.join(root, 'bin', 'ada.js'), 'utf8').split('\n', 1)[0].split(/\s+/).filter((f) => f.startsWith('--'));
  const made = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--cache'], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error(`bin/bundle.js --cache exited with ${made.status}`);
  return true;
}

/**
 * Runs the command line of the bundle the way a standalone sync does, on a one-row CSV table in a temporary
 * directory: `ada sync` (twice: the first creates the data directory) and `ada replay`, so that their functions are
 * compiled when the code cache is made (V8 caches what it compiled; what it did not is compiled at every start).
 */
async function rehearse(cli) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ada-bundle-'));
  try {
    const config = path.join(dir, 'config');
    const csv = path.join(dir, 'csv');
    mkdirSync(config);
    mkdirSync(csv);
    writeFileSync(path.join(config, 'instance.yaml'), [
      'instance:', '  name: Bundle rehearsal', 'auth:', '  allowed_domain: example.com', '  webapp_secret_key: rehearsal-secret-key-0123456789',
      'data_source:', '  type: csv', '  csv:', '    dir: ../csv', '',
    ].join('\n'));
    writeFileSync(path.join(config, 'data_description.md'), [
      '# Bundle rehearsal', '', '```yaml', 'tables:', '  - id: one', '    name: one', '    description: One row', '    primary_key: id',
      '    file: one.csv', '    columns:', '      - {name: id, type: INTEGER}', '      - {name: note, type: STRING}', '```', '',
    ].join('\n'));
    const errors = [];
    const ctx = { env: {}, out: () => undefined, err: (line) => void errors.push(line), isTTY: false, signal: new globalThis.AbortController().signal };
    const dirs = ['--config', config, '--data', path.join(dir, 'data')];
    for (const [argv, row] of [[['sync', ...dirs, '--json'], 'first'], [['sync', ...dirs, '--json'], 'second'], [['replay', ...dirs, '--json']]]) {
      if (row) writeFileSync(path.join(csv, 'one.csv'), `id,note\n1,${row}\n`);
      // A failed rehearsal makes a smaller cache, not a broken build.
      if ((await cli.main({ ...ctx, argv })) !== 0) process.stderr.write(`bin/bundle.js: the rehearsal's \`ada ${argv[0]}\` failed:\n${errors.join('\n')}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes the code cache of dist/ada.cjs, made after every command's modules were evaluated and a standalone sync and
 * replay ran (rehearse), so it holds their code compiled. V8 checks the cache against the source, its version and
 * its flags when it is used, and compiles from the source when it does not match.
 */
async function writeCodeCache(dist) {
  const { bundle: file, cache } = bundlePaths(dist);
  const { exports, script } = runBundle(file, readFileSync(file, 'utf8'));
  await Promise.all(exports.COMMANDS.map((c) => c.load()));
  await rehearse(exports);
  writeFileSync(cache, script.createCachedData());
  // The rehearsal made this process's umask private (as every command does); the cache is as readable as the bundle.
  chmodSync(cache, 0o644);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (process.argv[2] === '--cache') await writeCodeCache(path.join(root, 'dist'));
  else await bundle(root);
}
