import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSecretKey } from '../../../config/index.ts';
import { onlyPlainOptions, PLAIN_OPTIONS, secretArgValuesWith } from '../../../ops/command-main.ts';
import { controlSocketOf } from '../../../ops/control/socket-path.ts';
import { controlSocketPath } from '../../../pipeline/index.ts';

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
