import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLocatedYaml } from '../../../config/located-yaml.ts';

describe('parseLocatedYaml', () => {
  const text = ['tables:', '  - id: a', '    name: x', '  - id: b', '    columns:', '      - name: c'].join('\n');

  it('maps key paths to lines, shifted by the first line of the block', () => {
    const parsed = parseLocatedYaml(text, 10);
    assert.ok(parsed.ok);
    assert.equal(parsed.doc.lineOf(['tables']), 10);
    assert.equal(parsed.doc.lineOf(['tables', 0]), 11);
    assert.equal(parsed.doc.lineOf(['tables', 0, 'name']), 12);
    assert.equal(parsed.doc.lineOf(['tables', 1, 'columns', 0, 'name']), 15);
  });

  it('falls back to the nearest ancestor for paths that do not exist', () => {
    const parsed = parseLocatedYaml(text);
    assert.ok(parsed.ok);
    assert.equal(parsed.doc.lineOf(['tables', 1, 'description']), 4);
  });

  it('returns plain values, with merge keys applied', () => {
    const parsed = parseLocatedYaml('base: &b {x: 1}\nt:\n  <<: *b\n  y: 2\n');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.doc.value, { base: { x: 1 }, t: { x: 1, y: 2 } });
  });

  it('reports syntax errors and duplicate keys with file lines instead of throwing', () => {
    const parsed = parseLocatedYaml('a: 1\nb: [1,\nc: 2\na: 3\n', 20);
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.ok(parsed.errors.length >= 1);
    assert.ok(parsed.errors.every((e) => e.line >= 20 && e.line <= 24), JSON.stringify(parsed.errors));
    assert.ok(parsed.errors.every((e) => !e.message.includes('\n')));
  });

  it('locates a duplicate key at the duplicate', () => {
    const parsed = parseLocatedYaml('a: 1\nb: 2\na: 3\n', 5);
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.deepEqual(parsed.errors.map((e) => e.line), [7]);
    assert.match(parsed.errors[0]!.message, /unique/);
  });
});
