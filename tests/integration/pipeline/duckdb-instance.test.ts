import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { createDuckDBInstance, duckdbBindings } from '../../../pipeline/duckdb-instance.ts';

const require = createRequire(import.meta.url);

/** This platform's binding packages that can be found from where @duckdb/node-bindings looks. */
function bindingPackages(): string[] {
  const fromBindings = createRequire(require.resolve('@duckdb/node-bindings'));
  return [`@duckdb/node-bindings-linux-${process.arch}`, `@duckdb/node-bindings-linux-${process.arch}-musl`].filter((pkg) => {
    try {
      fromBindings.resolve(`${pkg}/duckdb.node`);
      return true;
    } catch {
      return false;
    }
  });
}

describe('createDuckDBInstance', () => {
  it('loads the one installed native binding of this Linux platform without detect-libc (and node:child_process)', async (t) => {
    if (process.platform !== 'linux' || bindingPackages().length !== 1) return t.skip('needs Linux with one binding package installed');
    const instance = await createDuckDBInstance(':memory:');
    try {
      const connection = await instance.connect();
      assert.deepEqual((await connection.runAndReadAll('SELECT 6 * 7')).getRows(), [[42]]);
      connection.closeSync();
    } finally {
      instance.closeSync();
    }
    assert.equal(Object.keys(require.cache).some((file) => file.includes(`${'/'}detect-libc${'/'}`)), false, 'detect-libc was not loaded');
    const registered = require.cache[require.resolve('@duckdb/node-bindings')];
    assert.equal(registered?.exports, duckdbBindings(), 'the API package and the raw bindings share the one native module');
    assert.equal(typeof duckdbBindings().open, 'function');
  });
});
