import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandLine } from '../../../events/log-store.ts';

test("the lock owner's command line masks secret option values before it is cut", () => {
  assert.equal(commandLine(['bin/ada.js', 'pull', '--token', 'ada_s3cret', '--api-secret=xyz123', '--data', 'd']), 'bin/ada.js pull --token *** --api-secret=*** --data d');
  const long = commandLine(['x'.repeat(290), '--password', 'hunter2hunter2']);
  assert.ok(!long.includes('hunter2'), long);
  assert.ok(long.length <= 300);
});
