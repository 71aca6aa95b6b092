import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRange, normalizeRequestPath } from '../../../portal/distribution/index.ts';

describe('distribution requests', () => {
  it('accepts only manifest-shaped relative paths', () => {
    assert.equal(normalizeRequestPath('parquet/sales/orders.parquet'), 'parquet/sales/orders.parquet');
    for (const bad of ['', '/etc/passwd', '../x', 'a/../b', 'a/./b', 'a//b', 'a/b/', 'a\\..\\b', 'a/%2e%2e/b', 'a\u0000b', 'x'.repeat(600)]) {
      assert.equal(normalizeRequestPath(bad), undefined, JSON.stringify(bad));
    }
  });

  it('decides 304, 206, 416 and full answers', () => {
    const etag = '"abc"';
    assert.deepEqual(decideRange({ 'if-none-match': '"abc"' }, etag, 100), { kind: 'not-modified' });
    assert.deepEqual(decideRange({ 'if-none-match': 'W/"x", "abc"' }, etag, 100), { kind: 'not-modified' });
    assert.deepEqual(decideRange({}, etag, 100), { kind: 'full' });
    assert.deepEqual(decideRange({ range: 'bytes=10-' }, etag, 100), { kind: 'partial', start: 10, end: 99 });
    assert.deepEqual(decideRange({ range: 'bytes=10-19' }, etag, 100), { kind: 'partial', start: 10, end: 19 });
    assert.deepEqual(decideRange({ range: 'bytes=90-200' }, etag, 100), { kind: 'partial', start: 90, end: 99 });
    assert.deepEqual(decideRange({ range: 'bytes=-5' }, etag, 100), { kind: 'partial', start: 95, end: 99 });
    assert.deepEqual(decideRange({ range: 'bytes=100-' }, etag, 100), { kind: 'unsatisfiable' });
    assert.deepEqual(decideRange({ range: 'bytes=0-1,5-6' }, etag, 100), { kind: 'full' });
    assert.deepEqual(decideRange({ range: 'bytes=10-', 'if-range': '"old"' }, etag, 100), { kind: 'full' });
    assert.deepEqual(decideRange({ range: 'bytes=10-', 'if-range': '"abc"' }, etag, 100), { kind: 'partial', start: 10, end: 99 });
  });
});
