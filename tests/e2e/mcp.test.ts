import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ADA_BIN, runCli, startServe } from '../helpers/cli.ts';
import { csvInstance } from '../helpers/instance.ts';
import { tempDir } from '../helpers/tmp.ts';

const TABLES = `  - id: csv.shop.orders
    name: orders
    description: Orders placed in the shop
    file: orders.csv
    primary_key: id
    columns:
      - name: id
        type: BIGINT
      - name: country
        type: VARCHAR
        description: Shipping country code
      - name: amount
        type: BIGINT
  - id: csv.finance.credit
    name: credit
    description: Credit limits
    private: true
    file: credit.csv
`;

interface TextResult { isError?: boolean; content: Array<{ type: string; text: string }> }

async function mcpClient(t: Parameters<typeof tempDir>[0], dir: string, extra: string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [ADA_BIN, 'mcp', '--dir', dir, ...extra], stderr: 'pipe' });
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<TextResult> {
  return await client.callTool({ name, arguments: args }) as TextResult;
}

it('ada mcp: tools over the local copy, read-only SQL with limits, nothing about tables the analyst may not see', { timeout: 180_000 }, async (t) => {
  const inst = await csvInstance(t, TABLES);
  await inst.writeCsv('orders.csv', `id,country,amount\n${Array.from({ length: 50 }, (_, i) => `${i + 1},${i % 2 ? 'DE' : 'CZ'},${i * 10}`).join('\n')}\n`);
  await inst.writeCsv('credit.csv', 'id,limit\n1,100\n');
  const sync = await runCli(['sync', ...inst.flags]);
  assert.equal(sync.code, 0, sync.stderr);
  const tokens: Record<string, string> = {};
  for (const [name, extra] of [['bob', []], ['carol', ['--private']]] as const) {
    assert.equal((await runCli(['analyst', 'add', name, ...extra, ...inst.flags])).code, 0);
    tokens[name] = (await runCli(['analyst', 'token', name, ...inst.flags])).stdout.trim();
  }
  const serve = await startServe(t, inst.flags);
  const root = await tempDir(t, 'ada-mcp-');
  for (const name of ['bob', 'carol']) {
    const r = await runCli(['pull', '--server', serve.url, '--token', tokens[name]!, '--dir', path.join(root, name)]);
    assert.equal(r.code, 0, r.stderr);
  }
  await serve.stop();

  const bob = await mcpClient(t, path.join(root, 'bob'), ['--max-rows', '20', '--max-bytes', '4096']);
  const tools = (await bob.listTools()).tools.map((x) => x.name).sort();
  assert.deepEqual(tools, ['describe_table', 'list_tables', 'query', 'search_tables']);

  const list = await call(bob, 'list_tables');
  assert.deepEqual((JSON.parse(list.content[0]!.text) as { tables: Array<{ name: string }> }).tables.map((x) => x.name), ['orders']);
  const search = JSON.parse((await call(bob, 'search_tables', { query: 'shipping country' })).content[0]!.text) as { tables: Array<{ name: string; matching_columns: string[] }> };
  assert.deepEqual(search.tables.map((x) => x.name), ['orders']);
  assert.ok(search.tables[0]!.matching_columns.includes('country'));
  const described = JSON.parse((await call(bob, 'describe_table', { table: 'orders' })).content[0]!.text) as { primary_key: string[]; columns: Array<{ name: string; type: string }>; freshness: { rows: number } };
  assert.deepEqual(described.primary_key, ['id']);
  assert.equal(described.freshness.rows, 50);
  assert.ok(described.columns.some((c) => c.name === 'amount'));

  const q = JSON.parse((await call(bob, 'query', { sql: 'SELECT country, count(*) AS n FROM orders GROUP BY 1 ORDER BY 1' })).content[0]!.text) as { rows: unknown[][] };
  // BIGINTs come as strings (JSON numbers lose precision past 2^53).
  assert.deepEqual(q.rows, [['CZ', '25'], ['DE', '25']]);

  // Limits and read-only: clear errors.
  const tooMany = await call(bob, 'query', { sql: 'SELECT * FROM orders' });
  assert.ok(tooMany.isError);
  assert.match(tooMany.content[0]!.text, /LIMIT_EXCEEDED.*more than 20 rows/);
  const tooBig = await call(bob, 'query', { sql: "SELECT repeat('x', 1000) AS s FROM orders LIMIT 10" });
  assert.match(tooBig.content[0]!.text, /LIMIT_EXCEEDED.*larger than 4096 bytes/);
  for (const sql of ['CREATE TABLE x AS SELECT 1', "COPY orders TO '/tmp/ada-mcp-leak.csv'", 'DROP VIEW orders', 'SELECT 1; SELECT 2']) {
    const r = await call(bob, 'query', { sql });
    assert.ok(r.isError, sql);
  }
  const outside = await call(bob, 'query', { sql: `SELECT * FROM read_csv('${inst.csvDir}/credit.csv')` });
  assert.ok(outside.isError, 'files outside server/ are not readable');
  assert.doesNotMatch(outside.content[0]!.text, /100/);

  // Nothing about the private table for the standard analyst.
  for (const [name, args] of [['describe_table', { table: 'credit' }], ['search_tables', { query: 'credit' }], ['query', { sql: 'SELECT * FROM credit' }]] as const) {
    const r = await call(bob, name, args);
    assert.doesNotMatch(r.content[0]!.text, /limit/i, `${name}: ${r.content[0]!.text}`);
    if (name === 'search_tables') assert.deepEqual((JSON.parse(r.content[0]!.text) as { tables: unknown[] }).tables, []);
    else assert.ok(r.isError);
  }

  // The privileged analyst's assistant sees it.
  const carol = await mcpClient(t, path.join(root, 'carol'));
  const credit = JSON.parse((await call(carol, 'query', { sql: 'SELECT "limit" FROM credit' })).content[0]!.text) as { rows: unknown[][] };
  assert.deepEqual(credit.rows, [['100']]);
});
