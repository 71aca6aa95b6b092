import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secretArgValues } from '../../ops/cli.ts';
import { runCli } from '../helpers/cli.ts';

const SECRET = 'Sup3r-s3cret-t0ken-value';

describe('ada never echoes the value of a secret option', () => {
  it('finds the values of options named like secrets, in both spellings', () => {
    assert.deepEqual(secretArgValues(['x', '--token', 'a1', '--storage-token=b2', '--password', 'c3', '--api_secret=d4', '--table', 'orders', '--name=bob']), ['a1', 'b2', 'c3', 'd4']);
    assert.deepEqual(secretArgValues(['--token']), []);
  });

  const cases: Array<[string, string[]]> = [
    ['an unknown command', ['frobnicate', '--token', SECRET]],
    ['an unknown command, --token=', ['frobnicate', `--token=${SECRET}`]],
    ['a command group without its verb', ['events', '--token', SECRET]],
    ['an unknown option of a known command', ['sync', '--storage-token', SECRET, '--data', '/nonexistent-ada-dir']],
    ['an unknown option after a secret', ['health', `--password=${SECRET}`, '--frob']],
    ['a failing command', ['analyst', 'add', 'x y', '--api-token', SECRET, '--config', '/nonexistent-ada-config']],
  ];
  for (const [what, argv] of cases) {
    it(`masks it in the error for ${what}`, async () => {
      const result = await runCli(argv);
      assert.notEqual(result.code, 0);
      assert.ok(result.stderr.length > 0);
      const text = result.stdout + result.stderr;
      for (let i = 0; i + 8 <= SECRET.length; i++) assert.ok(!text.includes(SECRET.slice(i, i + 8)), `${what}: ${text}`);
    });
  }
});
