import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import { EventLog } from '../../../events/index.ts';
import { startControlServer } from '../../../ops/control/server.ts';
import type { CommandContext } from '../../../ops/command.ts';
import { profileCommands } from '../../../ops/commands/profile.ts';
import type { ProfileOutcome, ProfilesDocument } from '../../../pipeline/projections/profiler/index.ts';
import { runCli } from '../../helpers/cli.ts';
import { readEvents } from '../../helpers/events.ts';
import { csvInstance } from '../../helpers/instance.ts';

const TABLES = `  - id: csv.shop.orders
    name: orders
    description: Orders of the shop
    primary_key: order_id
    sync_strategy: full_refresh
    file: orders.csv
    foreign_keys:
      - {column: customer, references: customers.name}
    columns:
      - {name: order_id, type: INTEGER}
      - {name: customer, type: STRING}
      - {name: amount, type: NUMERIC}
      - {name: ordered_on, type: DATE}
  - id: csv.shop.customers
    name: customers
    description: Customers
    primary_key: name
    file: customers.csv
`;

/** Runs `ada profile` (the command object, until it is wired into the CLI) and captures its output. */
async function profile(args: Record<string, string | boolean | string[] | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CommandContext = { argv: [], env: { PATH: process.env.PATH }, out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, signal: new AbortController().signal };
  const command = profileCommands.find((c) => c.name === 'profile')!;
  const code = await command.run({ values: args, positionals: [] }, ctx);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('ada profile', () => {
  it('profiles the tables a real sync published, prints a summary or JSON, exits 1 when one fails', async (t) => {
    const inst = await csvInstance(t, TABLES);
    await inst.writeCsv('orders.csv', 'order_id,customer,amount,ordered_on\n1,Ann,10.5,2024-01-05\n2,Bob,,2024-01-07\n3,Ann,7,\n4,Cy,0,2024-02-01\n');
    await inst.writeCsv('customers.csv', 'name,city\nAnn,Prague\nBob,Brno\nCy,Prague\n');
    const sync = await runCli(['sync', ...inst.flags]);
    assert.equal(sync.code, 0, sync.stderr);
    const flags = { config: inst.configDir, data: inst.dataDir };

    const json = await profile({ ...flags, json: true });
    assert.equal(json.code, 0, json.stderr + json.stdout);
    const result = JSON.parse(json.stdout) as { ok: boolean; profiles: string; tables: ProfileOutcome[] };
    assert.equal(result.ok, true);
    assert.deepEqual(result.tables.map((o) => [o.table, o.status, o.rows, o.columns]), [['orders', 'profiled', 4, 4], ['customers', 'profiled', 3, 2]]);

    const doc = JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'profiles.json'), 'utf8')) as ProfilesDocument;
    const orders = doc.tables.orders!;
    assert.equal(orders.description, 'Orders of the shop');
    assert.equal(orders.sync_strategy, 'full_refresh');
    assert.ok(orders.last_sync && !Number.isNaN(Date.parse(orders.last_sync)), 'last_sync is filled in');
    assert.ok(orders.file_size > 0);
    assert.equal(typeof orders.file_size_mb, 'number');
    assert.deepEqual(orders.columns.map((c) => [c.name, c.type, c.category]), [['order_id', 'BIGINT', 'numeric'], ['customer', 'VARCHAR', 'string'], ['amount', 'DOUBLE', 'numeric'], ['ordered_on', 'DATE', 'date']]);
    assert.deepEqual(orders.related_tables.map((r) => [r.direction, r.from, r.to]), [['outgoing', 'orders.customer', 'customers.name']]);
    assert.deepEqual(doc.tables.customers!.related_tables.map((r) => [r.direction, r.from]), [['incoming', 'orders.customer']]);
    const amount = orders.columns.find((c) => c.name === 'amount')!;
    assert.equal(amount.category === 'numeric' && amount.mean !== null ? Math.round(amount.mean * 1000) / 1000 : undefined, 5.833);

    const events = await readEvents(inst.dataDir);
    const profiled = events.filter((e) => e.type === 'TableProfiled');
    assert.deepEqual(profiled.map((e) => e.data && (e.data as { table: string }).table), ['orders', 'customers']);
    assert.ok(profiled.every((e) => e.source === 'profiler'));

    // One table by name, summary output; progress lines go to stderr.
    const one = await profile({ ...flags, table: ['customers'] });
    assert.equal(one.code, 0);
    assert.match(one.stdout, /^table\s+status\s+rows\s+columns\s+alerts\s+time\s+stale\s+error/m);
    assert.match(one.stdout, /customers\s+ok\s+3\s+2\s+\d+/);
    assert.match(one.stdout, /1 of 1 table\(s\) profiled into .*profiles\.json/);
    assert.match(one.stderr, /\[1\/1\] customers {2}done {2}3 rows {2}2 columns/);

    // A missing file: exit 1, the table's old profile kept (same content: not stale), the failure reported.
    await rm(path.join(inst.dataDir, 'parquet', 'shop', 'orders.parquet'));
    const failed = await profile({ ...flags, table: ['orders'] });
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /orders\s+FAILED.*\[PROFILE_FILE_MISSING\] file parquet\/shop\/orders\.parquet of table orders is missing/);
    assert.match(failed.stdout, /0 of 1 table\(s\) profiled.*1 failed/);

    const unknown = await profile({ ...flags, table: ['nope'] }).catch((err: Error) => err);
    assert.ok(unknown instanceof Error && /unknown table nope; configured: orders, customers/.test(unknown.message));
  });

  it('works while a server holds the log: profiles here, records the events through its control socket', async (t) => {
    const inst = await csvInstance(t, TABLES);
    await inst.writeCsv('orders.csv', 'order_id,customer,amount,ordered_on\n1,Ann,10.5,2024-01-05\n');
    await inst.writeCsv('customers.csv', 'name,city\nAnn,Prague\n');
    assert.equal((await runCli(['sync', ...inst.flags])).code, 0);
    // Stands in for `ada serve`: holds the writer lock and appends what the control socket receives.
    const log = await EventLog.open(path.join(inst.dataDir, 'events'), { logger: { warn: () => undefined } });
    t.after(() => log.close());
    const stop = await startControlServer(inst.dataDir, {
      append: (events) => Promise.all(events.map((e) => log.append(e))),
      sync: async () => [],
      health: async () => ({}) as never,
      analystsFor: () => ({}) as never,
    });
    t.after(stop);
    const result = await profile({ config: inst.configDir, data: inst.dataDir, table: ['customers'], json: true });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const events = await lastValueFrom(log.read$(1).pipe(toArray()));
    assert.deepEqual(events.filter((e) => e.type === 'TableProfiled').map((e) => [e.key?.split(':').slice(0, 2).join(':'), e.source]), [['profiled:customers', 'profiler']]);
    const doc = JSON.parse(await readFile(path.join(inst.dataDir, 'metadata', 'profiles.json'), 'utf8')) as ProfilesDocument;
    assert.equal(doc.tables.customers!.row_count, 1);
  });

  it('reports a configured table that was never published, and an instance with nothing published', async (t) => {
    const inst = await csvInstance(t, TABLES);
    const flags = { config: inst.configDir, data: inst.dataDir };
    const nothing = await profile(flags);
    assert.equal(nothing.code, 0);
    assert.match(nothing.stdout, /no published tables to profile; run `ada sync` first/);
    const named = await profile({ ...flags, table: ['orders'], json: true });
    assert.equal(named.code, 1);
    const result = JSON.parse(named.stdout) as { ok: boolean; tables: ProfileOutcome[] };
    assert.deepEqual(result.tables.map((o) => [o.table, o.status, o.error?.code]), [['orders', 'failed', 'PROFILE_NOT_PUBLISHED']]);
  });
});
