import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isSecretKey } from '../../../config/index.ts';
import { main, onlyPlainOptions, PLAIN_OPTIONS, secretArgValuesWith } from '../../../ops/command-main.ts';
import { controlSocketOf } from '../../../ops/control/socket-path.ts';
import { formatCount } from '../../../ops/format.ts';
import { controlSocketPath } from '../../../pipeline/index.ts';
import { ADA_BIN } from '../../helpers/cli.ts';

const ROOT = path.dirname(path.dirname(ADA_BIN));
import { tempDir } from '../../helpers/tmp.ts';

describe('the thin ada sync', () => {
  it('finds the control socket where the server listens', () => {
    for (const dir of ['/srv/ada/data', 'data', '/tmp/x y/data']) assert.equal(controlSocketOf(dir), controlSocketPath(dir));
  });

  it('skips secret masking only for options that never hold a secret', () => {
    for (const name of PLAIN_OPTIONS) assert.equal(isSecretKey(name), false, `--${name} is declared plain but isSecretKey says secret`);
    const plain = ['sync', '--config', 'c', '--data=d', '-t', 'orders', '--json', '--full-refresh'];
    assert.equal(onlyPlainOptions(plain), true);
    assert.deepEqual(secretArgValuesWith(plain, isSecretKey), [], 'nothing to mask where onlyPlainOptions says so');
    for (const argv of [['sync', '--token', 'abc'], ['sync', '--password=abc'], ['sync', '--table', '-storage-token'], ['init', '--token-env', 'X']]) {
      assert.equal(onlyPlainOptions(argv), false, argv.join(' '));
    }
  });
});

describe('private data dir', () => {
  it('a command that finds ada serve\'s socket leaves the data dir to the server; without it, the command tightens it', async (t) => {
    const dataDir = await tempDir(t, 'ada-served-dir-');
    const file = path.join(dataDir, 'copied.json');
    await writeFile(file, '{}');
    await chmod(file, 0o644);
    const socket = controlSocketOf(dataDir);
    // The file and run/ (made 0755 here): two entries.
    await mkdir(path.dirname(socket), { recursive: true, mode: 0o755 });
    await chmod(path.dirname(socket), 0o755);
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    const errors: string[] = [];
    const ctx = { env: {}, out: () => undefined, err: (s: string) => void errors.push(s), isTTY: false, signal: new AbortController().signal };
    await main({ ...ctx, argv: ['events', 'stats', '--json', '--data', dataDir] });
    assert.equal((await stat(file)).mode & 0o777, 0o644, 'not walked while a server runs on it');
    assert.ok(!errors.some((l) => l.startsWith('tightened')), errors.join('\n'));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await main({ ...ctx, argv: ['events', 'stats', '--json', '--data', dataDir] });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok(errors.some((l) => /^tightened permissions of 2 entries under /.test(l)), errors.join('\n'));
  });
});

describe('bin/ada.js', () => {
  it('loads rxjs as a single file (its single-file build, or inside the build\'s bundle), on first use only', async (t) => {
    const dataDir = await tempDir(t, 'ada-rxjs-');
    const run = spawnSync(process.execPath, [ADA_BIN, 'events', 'stats', '--json', '--data', dataDir], { env: { ...process.env, NODE_DEBUG: 'module' }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr.slice(-2000));
    assert.doesNotMatch(run.stderr, /rxjs[/\\]dist[/\\]cjs[/\\]internal/, 'none of the CommonJS build\'s files');
    // From the sources (or a build without a bundle) rxjs's own single-file build; from the bundle, nothing of rxjs's.
    if (!existsSync(path.join(ROOT, 'dist', 'ada.cjs'))) assert.match(run.stderr, /rxjs[/\\]dist[/\\]bundles[/\\]rxjs\.umd\.min\.js/, 'a command that uses rxjs gets the bundle');
    const version = spawnSync(process.execPath, [ADA_BIN, '--version'], { env: { ...process.env, NODE_DEBUG: 'module' }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(version.status, 0, version.stderr);
    assert.doesNotMatch(version.stderr, /load "[^"]*rxjs/, '--version loads no rxjs at all');
  });
});

describe('formatCount', () => {
  it('prints whole numbers as toLocaleString(\'en-US\') does, without Intl', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 999_999, 1_234_567, -1_234_567, 2 ** 53 - 1, 1.5]) assert.equal(formatCount(n), n.toLocaleString('en-US'), String(n));
  });
});
