import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * A checkout in miniature: the real bin/ada.js and bin/build-stamp.js, a source entry point that prints `source`
 * and a built one that prints `dist`, so which one bin/ada.js runs is visible.
 */
describe('bin/ada.js runs dist/ only while no source changed since the build', () => {
  let root: string;
  const entry = () => path.join(root, 'ops', 'command-main.ts');
  const ada = (env: NodeJS.ProcessEnv = {}) => execFileSync(process.execPath, [path.join(root, 'bin', 'ada.js')], { env: { ...process.env, ADA_FROM_SOURCE: undefined, ...env }, encoding: 'utf8' }).trim();
  const stamp = () => execFileSync(process.execPath, [path.join(root, 'bin', 'build-stamp.js')]);
  /** Sets a path's times a minute after now: later than any stamp written before, whatever the clock's resolution. */
  const touchLater = (p: string) => utimes(p, new Date(), new Date(Date.now() + 60_000));

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ada-fresh-'));
    await mkdir(path.join(root, 'bin'));
    await writeFile(path.join(root, 'package.json'), '{ "type": "module" }\n');
    await copyFile(path.join(REPO, 'bin', 'ada.js'), path.join(root, 'bin', 'ada.js'));
    await copyFile(path.join(REPO, 'bin', 'build-stamp.js'), path.join(root, 'bin', 'build-stamp.js'));
    await symlink(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
    await mkdir(path.join(root, 'ops', 'commands'), { recursive: true });
    await writeFile(entry(), "export async function runFromProcess(): Promise<void> { process.stdout.write('source\\n'); }\n");
    await writeFile(path.join(root, 'ops', 'commands', 'one.ts'), 'export const one = 1;\n');
    await mkdir(path.join(root, 'dist', 'ops'), { recursive: true });
    await writeFile(path.join(root, 'dist', 'ops', 'command-main.js'), "export async function runFromProcess() { process.stdout.write('dist\\n'); }\n");
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('runs the sources when there is no stamp', () => {
    assert.equal(ada(), 'source');
  });

  it('runs dist/ right after a build, and the sources when ADA_FROM_SOURCE=1', () => {
    stamp();
    assert.equal(ada(), 'dist');
    assert.equal(ada({ ADA_FROM_SOURCE: '1' }), 'source');
  });

  it('runs the sources once a file is edited in place', async () => {
    stamp();
    await touchLater(path.join(root, 'ops', 'commands', 'one.ts'));
    assert.equal(ada(), 'source');
  });

  it('runs the sources once an asset the build copies is edited (a stale dist/ would serve the old one)', async () => {
    await mkdir(path.join(root, 'portal', 'assets'), { recursive: true });
    await writeFile(path.join(root, 'portal', 'assets', 'live.js'), '// live\n');
    stamp();
    assert.equal(ada(), 'dist');
    await touchLater(path.join(root, 'portal', 'assets', 'live.js'));
    assert.equal(ada(), 'source');
  });

  it('runs the sources once a file is added to a source directory', async () => {
    stamp();
    assert.equal(ada(), 'dist');
    await writeFile(path.join(root, 'ops', 'commands', 'two.ts'), 'export const two = 2;\n');
    await touchLater(path.join(root, 'ops', 'commands'));
    assert.equal(ada(), 'source');
  });

  it('runs the sources once a listed file is removed', async () => {
    stamp();
    assert.equal(ada(), 'dist');
    await rm(path.join(root, 'ops', 'commands', 'two.ts'));
    assert.equal(ada(), 'source');
  });
});
