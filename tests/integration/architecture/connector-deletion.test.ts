/**
 * Every connector is deletable (DESIGN.md): a copy of the tree without `connectors/<type>/`, its registry lines and
 * its own tests type-checks, and the product then knows nothing of it.
 *
 * What runs in the copy, and why only that: the type check covers the whole product (events, config, pipeline,
 * connectors, portal, ops, bin), which is where a stray import of the deleted connector would break. Tests are a
 * chosen few (config loading and checking, the scheduler, the other connector's unit tests, and the CLI itself):
 * the remaining suite exercises the same code from many sides, and running all of it twice more would add minutes
 * to a suite that must stay under 8 on 2 cores. Tests that belong to the deleted connector are dropped by path
 * (`tests/**` entries named after it) and by import (any test that imports a dropped file, transitively).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PRODUCT = ['events', 'config', 'pipeline', 'connectors', 'portal', 'ops', 'bin'];
const COPIED = [...PRODUCT, 'tests', 'package.json', 'tsconfig.json'];

const INSTANCE = (type: string, section: string[]): string => [
  'instance:', '  name: Without a connector', 'auth:', '  allowed_domain: example.com', '  webapp_secret_key: a-long-enough-secret-key-0123',
  'data_source:', `  type: ${type}`, ...section, '',
].join('\n');

const CASES: Array<{ deleted: string; kept: { type: string; section: string[] }; initSources?: string; tests: string[]; goneFlags: string[] }> = [
  {
    deleted: 'keboola',
    kept: { type: 'csv', section: ['  csv:', '    dir: ../csv'] },
    tests: ['tests/unit/pipeline/scheduler.test.ts', 'tests/unit/config/validate-cron.test.ts', 'tests/integration/config/csv-file-outside.test.ts', 'tests/integration/config/hostile-files.test.ts'],
    goneFlags: ['--stack-url', '--project-id'],
  },
  {
    deleted: 'csv',
    kept: { type: 'keboola', section: ['  keboola:', '    storage_token: kbc-token-0123456789', '    stack_url: https://connection.keboola.com'] },
    tests: ['tests/unit/pipeline/scheduler.test.ts', 'tests/unit/config/validate-cron.test.ts', 'tests/unit/connectors/keboola-s3-signing.test.ts', 'tests/unit/connectors/keboola-setup-answers.test.ts'],
    goneFlags: ['--csv-dir'],
  },
  {
    deleted: 'jira',
    kept: { type: 'csv', section: ['  csv:', '    dir: ../csv'] },
    // Jira has no ada init questions: both table sources stay.
    initSources: 'keboola|csv',
    tests: ['tests/unit/pipeline/scheduler.test.ts', 'tests/integration/config/csv-file-outside.test.ts'],
    goneFlags: [],
  },
];

describe('each connector is deletable', () => {
  for (const c of CASES) {
    it(`without connectors/${c.deleted}/ the product type-checks, its remaining tests pass and it knows nothing of ${c.deleted}`, { timeout: 600_000 }, async (t) => {
      const copy = await mkdtemp(path.join(os.tmpdir(), `ada-without-${c.deleted}-`));
      t.after(() => rm(copy, { recursive: true, force: true }));
      await copyWithout(copy, c.deleted);

      const tsconfig = JSON.parse(await readFile(path.join(copy, 'tsconfig.json'), 'utf8')) as { include: string[] };
      tsconfig.include = PRODUCT;
      await writeFile(path.join(copy, 'tsconfig.product.json'), JSON.stringify(tsconfig));
      const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      await run(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.product.json'], { cwd: copy }).catch((err: { stdout?: string }) => {
        assert.fail(`the product does not type-check without ${c.deleted}:\n${err.stdout}`);
      });

      // Without NODE_TEST_CONTEXT the child reports in TAP to its stdout, not to this runner.
      const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
      const tests = await run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', ...c.tests], { cwd: copy, env, maxBuffer: 16 * 1024 * 1024 })
        .catch((err: { stdout?: string }) => assert.fail(`remaining tests failed without ${c.deleted}:\n${err.stdout}`));
      assert.match(tests.stdout, /^# fail 0$/m);

      const overview = await ada(copy, ['--help']);
      assert.ok(!new RegExp(`^  ${c.deleted} `, 'm').test(overview.stdout), `ada --help still lists a ${c.deleted} command`);

      const help = await ada(copy, ['init', '--help']);
      for (const flag of c.goneFlags) assert.ok(!help.stdout.includes(flag), `ada init still offers ${flag}`);
      assert.ok(help.stdout.includes(`--source ${c.initSources ?? c.kept.type} `), `ada init --help offers --source ${c.initSources ?? c.kept.type}`);

      const configDir = path.join(copy, 'probe', 'config');
      await writeInstance(configDir, INSTANCE(c.kept.type, c.kept.section));
      const kept = await ada(copy, ['config', 'check', '--config', configDir]);
      assert.equal(kept.code, 0, kept.stdout + kept.stderr);
      await writeInstance(configDir, INSTANCE(c.deleted, []));
      const gone = await ada(copy, ['config', 'check', '--config', configDir]);
      assert.equal(gone.code, 2);
      assert.match(gone.stdout, new RegExp(`data_source.type: unknown value "${c.deleted}"`));
    });
  }
});

/** Copies the tree into `dest` without the connector's folder, its registry lines and its tests; links node_modules. */
async function copyWithout(dest: string, type: string): Promise<void> {
  const connectorDir = path.join(ROOT, 'connectors', type);
  const ownTest = (rel: string): boolean => rel.startsWith('tests/') && path.basename(rel).startsWith(type);
  for (const entry of COPIED) {
    await cp(path.join(ROOT, entry), path.join(dest, entry), {
      recursive: true,
      filter: (src) => {
        const rel = path.relative(ROOT, src).split(path.sep).join('/');
        return src !== connectorDir && !src.startsWith(`${connectorDir}${path.sep}`) && !ownTest(rel);
      },
    });
  }
  await symlink(path.join(ROOT, 'node_modules'), path.join(dest, 'node_modules'), 'dir');

  const registry = path.join(dest, 'connectors', 'index.ts');
  const lines = (await readFile(registry, 'utf8')).split('\n');
  const kept = lines.filter((line) => !line.includes(`from './${type}/index.ts'`) && line.trim() !== `${type}Connector,`);
  assert.equal(lines.length - kept.length, 2, `expected the import and the CONNECTORS entry of ${type} in connectors/index.ts`);
  await writeFile(registry, kept.join('\n'));
  // The command registry holds a line pair only for connectors that add commands to ada.
  const commands = path.join(dest, 'connectors', 'commands.ts');
  const commandLines = (await readFile(commands, 'utf8')).split('\n');
  const keptCommands = commandLines.filter((line) => !line.includes(`from './${type}/`) && line.trim() !== `...${type}Commands,`);
  assert.ok([0, 2].includes(commandLines.length - keptCommands.length), `expected no line or the import and the entry of ${type} in connectors/commands.ts`);
  await writeFile(commands, keptCommands.join('\n'));
  await dropTestsImportingMissing(dest);
}

/** Removes test files that import a file that is no longer there, until none does (a helper may import a dropped fixture). */
async function dropTestsImportingMissing(dest: string): Promise<void> {
  for (let changed = true; changed;) {
    changed = false;
    const files = new Set(await listFiles(dest));
    for (const file of [...files].filter((f) => f.startsWith(path.join(dest, 'tests')) && f.endsWith('.ts'))) {
      const text = await readFile(file, 'utf8');
      if ([...text.matchAll(/from '(\.[^']+\.ts)'/g)].some(([, spec]) => !files.has(path.resolve(path.dirname(file), spec!)))) {
        await rm(file);
        changed = true;
      }
    }
  }
}

/** Every file below `dir`, node_modules left out. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') out.push(...await listFiles(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

async function writeInstance(configDir: string, text: string): Promise<void> {
  await rm(configDir, { recursive: true, force: true });
  await mkdir(configDir, { recursive: true });
  await writeFile(path.join(configDir, 'instance.yaml'), text);
}

async function ada(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(cwd, 'bin', 'ada.js'), ...args], { cwd, env: { PATH: process.env.PATH } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
