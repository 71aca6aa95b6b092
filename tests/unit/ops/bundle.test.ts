import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The flags of bin/ada.js's `#!` line, which the code cache is made for. */
const NODE_FLAGS = readFileSync(path.join(REPO, 'bin', 'ada.js'), 'utf8').split('\n', 1)[0]!.split(/\s+/).filter((f) => f.startsWith('--'));

/**
 * A checkout in miniature with the real bin/ scripts and a small build: dist/ops/command-main.js hands the command line
 * to the bundle, whose `main` prints what its modules see (their import.meta.url, a package required lazily).
 */
describe('bin/bundle.js and the bundle bin/ada.js runs', () => {
  let root: string;
  const dist = (...p: string[]) => path.join(root, 'dist', ...p);
  const ada = (args: string[] = ['go']) => execFileSync(process.execPath, [...NODE_FLAGS, path.join(root, 'bin', 'ada.js'), ...args], { env: { ...process.env, ADA_FROM_SOURCE: undefined }, encoding: 'utf8' }).trim();
  const build = () => {
    execFileSync(process.execPath, [path.join(root, 'bin', 'bundle.js')], { stdio: 'pipe' });
    execFileSync(process.execPath, [path.join(root, 'bin', 'build-stamp.js')]);
  };

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ada-bundle-'));
    await mkdir(path.join(root, 'bin'));
    await writeFile(path.join(root, 'package.json'), '{ "type": "module" }\n');
    for (const f of ['ada.js', 'build-stamp.js', 'bundle.js', 'run-bundle.js']) await copyFile(path.join(REPO, 'bin', f), path.join(root, 'bin', f));
    await symlink(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
    await mkdir(path.join(root, 'ops'), { recursive: true });
    await writeFile(path.join(root, 'ops', 'command-main.ts'), "export async function runFromProcess(): Promise<void> { process.stdout.write('source\\n'); }\n");
    await mkdir(dist('ops'), { recursive: true });
    await writeFile(dist('ops', 'command-main.js'), [
      "import { parsed, where } from './helper.js';",
      'export const COMMANDS = [{ load: async () => [] }];',
      'export async function runFromProcess(options = {}) {',
      '  const bundled = await options.bundled?.();',
      "  if (!bundled) return void process.stdout.write('dist\\n');",
      '  process.exitCode = await bundled.main({ argv: process.argv.slice(2) });',
      '}',
      'export async function main(ctx) {',
      "  const tag = (strings, ...values) => strings.join(values.join('|'));",
      // A package the bundle leaves out, imported as an ES module: from a script V8 compiled from the code cache.
      "  const { default: WebSocket } = await import('ws');",
      "  process.stdout.write(JSON.stringify({ from: 'bundle', argv: ctx.argv, main: import.meta.url, helper: where(), yaml: parsed('a: 1'), text: 'a … b', tagged: tag`→ ${1} ✓`, ws: typeof WebSocket }) + '\\n');",
      '  return 0;',
      '}',
      '',
    ].join('\n'));
    await writeFile(dist('ops', 'helper.js'), [
      "import { createRequire } from 'node:module';",
      'export const where = () => import.meta.url;',
      "export const parsed = (text) => createRequire(import.meta.url)('yaml').parse(text);",
      '',
    ].join('\n'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('runs the command line from the bundle, each module with its own import.meta.url, a lazy require bundled', async () => {
    build();
    const bundle = await readFile(dist('ada.cjs'), 'utf8');
    assert.doesNotMatch(bundle, /createRequire\(/, 'yaml is required from the bundle, not from a path');
    assert.match(bundle, /yaml/);
    assert.deepEqual(JSON.parse(ada(['go', '--on'])), {
      from: 'bundle',
      argv: ['go', '--on'],
      main: pathToFileURL(dist('ops', 'command-main.js')).href,
      helper: pathToFileURL(dist('ops', 'helper.js')).href,
      yaml: { a: 1 },
      text: 'a … b',
      tagged: '→ 1 ✓',
      ws: 'function',
    });
    // Non-ASCII characters of ours, tagged templates' included, are escapes: the bundle is read as a one-byte string.
    assert.doesNotMatch(bundle, /[\u0080-\uffff]/);
  });

  it('writes a code cache V8 takes in a process started with bin/ada.js\'s flags', () => {
    build();
    const check = `import { existsSync, readFileSync } from 'node:fs';
      import { runBundle } from ${JSON.stringify(pathToFileURL(path.join(root, 'bin', 'run-bundle.js')).href)};
      const file = ${JSON.stringify(dist('ada.cjs'))};
      const { script } = runBundle(file, readFileSync(file, 'utf8'), readFileSync(file + '.cache'));
      process.stdout.write(String(script.cachedDataRejected));`;
    assert.equal(execFileSync(process.execPath, [...NODE_FLAGS, '--input-type=module', '-e', check], { encoding: 'utf8' }), 'false');
  });

  it('compiles from the source when the code cache is not V8\'s or is missing', async () => {
    build();
    await writeFile(dist('ada.cjs.cache'), Buffer.from('not a code cache'.repeat(64)));
    assert.equal(JSON.parse(ada()).from, 'bundle');
    await rm(dist('ada.cjs.cache'));
    assert.equal(JSON.parse(ada()).from, 'bundle');
  });

  it('refuses to bundle an import() by an expression, which would fail whenever V8 takes the code cache', async () => {
    const helper = await readFile(dist('ops', 'helper.js'), 'utf8');
    try {
      await writeFile(dist('ops', 'helper.js'), helper.replace('export const where = () => import.meta.url;', 'export const where = (name) => (name ? import(name) : import.meta.url);'));
      assert.throws(() => build(), (err: Error & { stderr?: Buffer }) => /the bundle would call import\(name\)/.test(String(err.stderr)));
      assert.equal(existsSync(dist('ada.cjs')), false, 'no bundle is left to run');
    } finally {
      await writeFile(dist('ops', 'helper.js'), helper);
    }
    build();
    assert.equal(JSON.parse(ada()).from, 'bundle');
  });

  it('runs dist/ module by module without a bundle, and the sources once a source changed', async () => {
    build();
    await rm(dist('ada.cjs'));
    assert.equal(ada(), 'dist');
    build();
    await writeFile(path.join(root, 'ops', 'added.ts'), 'export const added = 1;\n');
    // A minute later than the stamp, whatever the clock's resolution.
    await utimes(path.join(root, 'ops'), new Date(), new Date(Date.now() + 60_000));
    assert.equal(ada(), 'source');
  });
});
