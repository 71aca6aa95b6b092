import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePlaceholders } from '../../../config/index.ts';
import { resolveTree } from '../../../config/placeholders.ts';

describe('resolvePlaceholders', () => {
  it('replaces ${VAR} with its value, including an empty value', () => {
    const r = resolvePlaceholders('https://${HOST}:${PORT}/x${EMPTY}', { HOST: 'h', PORT: '8080', EMPTY: '' });
    assert.equal(r.value, 'https://h:8080/x');
    assert.deepEqual(r.missing, []);
    assert.deepEqual(r.variables, ['HOST', 'PORT', 'EMPTY']);
  });

  it('uses ${VAR:-default} when VAR is unset or empty', () => {
    assert.equal(resolvePlaceholders('${A:-dflt}', {}).value, 'dflt');
    assert.equal(resolvePlaceholders('${A:-dflt}', { A: '' }).value, 'dflt');
    assert.equal(resolvePlaceholders('${A:-dflt}', { A: 'set' }).value, 'set');
    assert.equal(resolvePlaceholders('${A:-}', {}).value, '');
    assert.equal(resolvePlaceholders('${A:-a:b-c}', {}).value, 'a:b-c');
  });

  it('reports variables without a value and keeps the placeholder text', () => {
    const r = resolvePlaceholders('x ${MISSING} ${SET}', { SET: 'y' });
    assert.deepEqual(r.missing, ['MISSING']);
    assert.equal(r.value, 'x ${MISSING} y');
  });

  it('treats $${ as a literal ${ and leaves a bare $NAME alone', () => {
    const r = resolvePlaceholders('$${NOT_A_VAR} $HOME', {});
    assert.equal(r.value, '${NOT_A_VAR} $HOME');
    assert.deepEqual(r.missing, []);
    assert.deepEqual(r.variables, []);
  });

  it('reports malformed placeholders', () => {
    const r = resolvePlaceholders('${1BAD} ${has space} ${open', {});
    assert.deepEqual(r.malformed, ['${1BAD}', '${has space}', '${']);
  });
});

describe('resolveTree', () => {
  it('resolves strings at every depth and reports issues with their key paths', () => {
    const { value, issues, substituted } = resolveTree(
      { a: { b: ['${X}', 'lit', 3] }, c: '${NOPE}', '${KEY}': 'keys are not resolved' },
      { X: 'x' },
    );
    assert.deepEqual(value, { a: { b: ['x', 'lit', 3] }, c: '${NOPE}', '${KEY}': 'keys are not resolved' });
    assert.deepEqual(issues, [{ path: ['c'], kind: 'missing', text: 'NOPE' }]);
    assert.deepEqual(substituted.map((s) => s.path), [['a', 'b', 0], ['c']]);
  });
});
