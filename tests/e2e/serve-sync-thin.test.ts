import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { controlSocketPath } from '../../pipeline/index.ts';
import { spawnCli, startServe } from '../helpers/cli.ts';
import { readEvents } from '../helpers/events.ts';
import { ordersInstance, query } from '../helpers/instance.ts';

/**
 * Modules a served `ada sync` must not load: it only talks to the server. The connectors' command declarations
 * (connectors/commands.ts and the small declaration files it names) build the command table and are allowed.
 */
const HEAVY = [/[/\\]pipeline[/\\]/, /[/\\]connectors[/\\](?!commands\.ts|[a-z]+[/\\](?:command-declarations|backfill-declaration)\.ts)/, /[/\\]config[/\\]/, /node_modules[/\\]@duckdb[/\\]/, /node_modules[/\\]fastify[/\\]/, /node_modules[/\\]rxjs[/\\]/, /node_modules[/\\]yaml[/\\]/];

it('with ada serve running, ada sync is a thin client of its control socket; with the server killed, it syncs by itself', { timeout: 120_000 }, async (t) => {
  const inst = await ordersInstance(t, 'id\n1\n2\n');
  const parquet = path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet');
  const published = async (): Promise<number[]> => (await query(`SELECT id FROM read_parquet('${parquet}') ORDER BY id`)).map((r) => r.id as number);
  const serve = await startServe(t, inst.flags);

  // The real command as a child, with Node's module log: the run shows what it loaded.
  const served = await spawnCli(['sync', ...inst.flags], { env: { ADA_FROM_SOURCE: '1', NODE_DEBUG: 'esm,module' } });
  assert.equal(served.code, 0, served.stderr.slice(-2000));
  assert.match(served.stderr, /ada serve is running on this data directory: the sync runs there/);
  assert.match(served.stderr, /^\[1\/1\] orders {2}done {2}2 rows/m, 'the progress streams from the server');
  assert.match(served.stdout, /^orders +ok +2 +1 /m);
  assert.match(served.stdout, /1 of 1 table\(s\) synced into /);
  assert.match(served.stderr, /ops[/\\]control[/\\]sync-client\.ts/, 'the debug log lists loaded modules');
  for (const heavy of HEAVY) assert.doesNotMatch(served.stderr, heavy);
  assert.deepEqual(await published(), [1, 2]);

  const json = await spawnCli(['sync', '--json', ...inst.flags]);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stderr, '', 'with --json stderr stays quiet');
  const doc = JSON.parse(json.stdout) as { ok: boolean; dataDir: string; tables: Array<{ table: string; status: string; rows: number }> };
  assert.deepEqual([doc.ok, doc.dataDir, doc.tables.map((o) => [o.table, o.status, o.rows])], [true, inst.dataDir, [['orders', 'succeeded', 2]]]);

  const unknown = await spawnCli(['sync', '--table', 'nope', ...inst.flags]);
  assert.equal(unknown.code, 2, 'an unknown table is a usage error, as without a server');
  assert.match(unknown.stderr, /^ada sync: unknown table nope; configured: orders\nusage: ada sync /m);

  const refresh = await spawnCli(['sync', '--full-refresh', ...inst.flags]);
  assert.equal(refresh.code, 2, refresh.stderr);
  assert.match(refresh.stderr, /--full-refresh runs in this process only/);

  // A server killed without cleanup leaves its socket: nobody answers, so the command opens the log itself.
  serve.child.kill('SIGKILL');
  await new Promise((resolve) => serve.child.once('exit', resolve));
  assert.ok((await stat(controlSocketPath(inst.dataDir))).isSocket(), 'the killed server left its socket');
  await inst.writeCsv('orders.csv', 'id\n1\n2\n3\n');
  const alone = await spawnCli(['sync', ...inst.flags]);
  assert.equal(alone.code, 0, alone.stderr);
  assert.doesNotMatch(alone.stderr, /ada serve is running/);
  assert.match(alone.stderr, /^\[1\/1\] orders {2}done {2}3 rows/m);
  assert.match(alone.stdout, /^orders +ok +3 +1 /m);
  assert.deepEqual(await published(), [1, 2, 3]);

  const events = await readEvents(inst.dataDir);
  const triggers = events.filter((e) => e.type === 'SyncStarted').map((e) => e.data.trigger);
  assert.deepEqual(triggers, ['api', 'api', 'manual'], 'the first two ran in the server, the last in the command');
});
