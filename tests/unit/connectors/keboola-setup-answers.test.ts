import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStack, parseToken, stackUrlProblem } from '../../../connectors/keboola/setup-answers.ts';

describe('ada init: the Keboola answers', () => {
  it('checks stacks and tokens without repeating them', () => {
    const secret = '4242-987654-SecretValue';
    for (const parsed of [parseStack(secret), parseToken(`${secret} x`)]) {
      assert.ok('problem' in parsed && !parsed.problem.includes(secret), JSON.stringify(parsed));
    }
    assert.deepEqual(parseStack('2'), { value: 'https://connection.eu-central-1.keboola.com' });
    assert.deepEqual(parseStack('connection.keboola.com/'), { value: 'https://connection.keboola.com' });
    assert.deepEqual(parseStack('4'), { value: 'custom' });
    assert.equal(stackUrlProblem('http://127.0.0.1:8080'), undefined);
    assert.match(stackUrlProblem('http://connection.keboola.com') ?? '', /unencrypted/);
  });
});
