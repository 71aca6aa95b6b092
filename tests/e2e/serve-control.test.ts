import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { it } from 'node:test';
import { controlSocketPath } from '../../pipeline/index.ts';
import { runCli, startServe } from '../helpers/cli.ts';
import { readEvents } from '../helpers/events.ts';
import { ordersInstance } from '../helpers/instance.ts';

it('while ada serve holds the log, ada analyst and ada sync go through its control socket', { timeout: 90_000 }, async (t) => {
  const inst = await ordersInstance(t, 'id\n1\n');
  const serve = await startServe(t, inst.flags);
  const socket = controlSocketPath(inst.dataDir);
  assert.equal(((await stat(socket)).mode & 0o777).toString(8), '600');

  const added = await runCli(['analyst', 'add', 'alice', '--email', 'alice@example.com', ...inst.flags]);
  assert.equal(added.code, 0, added.stderr);
  const listed = await runCli(['analyst', 'list', '--json', ...inst.flags]);
  assert.match(listed.stdout, /"alice"/);
  const again = await runCli(['analyst', 'add', 'alice', ...inst.flags]);
  assert.equal(again.code, 1, 'a refusal by the server keeps its exit code');
  assert.match(again.stderr, /^ada analyst add: \[ANALYST_EXISTS\] /);
  const bad = await runCli(['analyst', 'add', 'Root!', ...inst.flags]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /\[INVALID_NAME\]/);
  const token = await runCli(['analyst', 'token', 'alice', ...inst.flags]);
  assert.equal(token.code, 0, token.stderr);
  const revoked = await runCli(['analyst', 'token', 'alice', '--revoke', ...inst.flags]);
  assert.match(revoked.stdout, /^revoked 1 token of alice: /);
  const health = await runCli(['health', '--json', ...inst.flags]);
  assert.ok(JSON.parse(health.stdout).checks.tables.orders, 'ada health answers while serve runs');

  const synced = await runCli(['sync', '--json', ...inst.flags]);
  assert.equal(synced.code, 0, synced.stderr);
  assert.equal((JSON.parse(synced.stdout) as { tables: Array<{ rows: number }> }).tables[0]!.rows, 1);

  const events = await readEvents(inst.dataDir);
  assert.ok(events.some((e) => e.type === 'AnalystAdded' && e.source === 'cli:analyst'));
  assert.ok(events.some((e) => e.type === 'SyncStarted' && e.data.trigger === 'api'));
  assert.equal(await serve.stop(), 0);
  await assert.rejects(stat(socket), 'the socket is removed on shutdown');
  const replay = await runCli(['analyst', 'list', ...inst.flags]);
  assert.equal(replay.code, 0, 'with the server gone, commands open the log themselves again');
});
