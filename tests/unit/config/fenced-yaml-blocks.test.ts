import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractFencedYamlBlocks } from '../../../config/fenced-yaml-blocks.ts';

describe('extractFencedYamlBlocks', () => {
  it('finds yaml and yml blocks with the line of their fence and first line', () => {
    const md = ['# Title', '', '```yaml', 'a: 1', '```', 'text', '~~~yml', 'b: 2', 'c: 3', '~~~'].join('\n');
    const { blocks, problems } = extractFencedYamlBlocks(md);
    assert.deepEqual(problems, []);
    assert.deepEqual(blocks, [
      { text: 'a: 1', fenceLine: 3, firstLine: 4 },
      { text: 'b: 2\nc: 3', fenceLine: 7, firstLine: 8 },
    ]);
  });

  it('skips other languages, including a yaml fence shown inside a longer markdown fence', () => {
    const md = ['````markdown', '```yaml', 'hidden: true', '```', '````', '```json', '{}', '```', '```YAML', 'shown: true', '```'].join('\n');
    const { blocks } = extractFencedYamlBlocks(md);
    assert.deepEqual(blocks.map((b) => b.text), ['shown: true']);
  });

  it('needs a closing fence at least as long as the opening one', () => {
    const md = ['````yaml', 'a: |', '  ```', '  still inside', '````'].join('\n');
    assert.deepEqual(extractFencedYamlBlocks(md).blocks.map((b) => b.text), ['a: |\n  ```\n  still inside']);
  });

  it('reports an unclosed yaml fence at its line', () => {
    const { blocks, problems } = extractFencedYamlBlocks('intro\n\n```yaml\ntables: []\n');
    assert.deepEqual(blocks, []);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 3);
    assert.match(problems[0]!.message, /never closed/);
  });
});
