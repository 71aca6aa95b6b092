import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDotenv } from '../../../config/index.ts';

describe('parseDotenv', () => {
  it('reads KEY=VALUE lines, skipping blanks and comments, with an optional export prefix', () => {
    const { values, problems } = parseDotenv('# comment\n\nA=1\nexport B=two\n  C = spaced  \nD=\n');
    assert.deepEqual(values, { A: '1', B: 'two', C: 'spaced', D: '' });
    assert.deepEqual(problems, []);
  });

  it('strips an inline comment from unquoted values but keeps # inside words', () => {
    const { values } = parseDotenv('A=value # note\nB=pass#word\nC=# only a comment\n');
    assert.deepEqual(values, { A: 'value', B: 'pass#word', C: '' });
  });

  it('keeps single-quoted values literally', () => {
    const { values } = parseDotenv(`A='  $x \\n # not a comment '\n`);
    assert.equal(values.A, '  $x \\n # not a comment ');
  });

  it('unescapes double-quoted values and lets them span lines', () => {
    const { values, problems } = parseDotenv('A="tab\\there \\"q\\" \\\\ end" # c\nB="line1\nline2"\nC=after\n');
    assert.deepEqual(problems, []);
    assert.equal(values.A, 'tab\there "q" \\ end');
    assert.equal(values.B, 'line1\nline2');
    assert.equal(values.C, 'after');
  });

  it('reports malformed lines and unterminated quotes with their line numbers', () => {
    const { values, problems } = parseDotenv('A=1\nnot an assignment\n1BAD=x\nB=\'open\nC="never closed\nD=4\n');
    assert.deepEqual(problems.map((p) => p.line), [2, 3, 4, 5]);
    assert.match(problems[0]!.message, /KEY=VALUE/);
    assert.match(problems[2]!.message, /B: unterminated single-quoted/);
    assert.match(problems[3]!.message, /C: unterminated double-quoted/);
    assert.equal(values.A, '1');
    assert.equal(values.D, undefined, 'an unterminated double quote swallows the rest of the file');
  });

  it('handles CRLF line endings and a byte-order mark', () => {
    const { values } = parseDotenv('\uFEFFA=1\r\nB="2"\r\n');
    assert.deepEqual(values, { A: '1', B: '2' });
  });
});
