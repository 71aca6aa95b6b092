import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMAND_TABLE } from '../../../ops/command-table.ts';
import { JIRA_COMMANDS } from '../../../connectors/jira/commands.ts';
import { jiraConnector } from '../../../connectors/jira/index.ts';

const declaration = (c: { name: string; summary: string; usage: string; options: unknown; allowPositionals?: boolean }) =>
  ({ name: c.name, summary: c.summary, usage: c.usage, options: c.options, allowPositionals: c.allowPositionals ?? false });

const ADA_BIN = fileURLToPath(new URL('../../../bin/ada.js', import.meta.url));

/** The node_modules packages and source files a child `ada …` loaded, from Node's module debug log. */
function loaded(args: string[]): string {
  const run = spawnSync(process.execPath, [ADA_BIN, ...args], {
    env: { ...process.env, ADA_FROM_SOURCE: '1', NODE_DEBUG: 'esm,module' },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr.slice(-2000));
  return run.stderr;
}

describe('command table', () => {
  it('declares every command exactly as its implementation does, in the same module', async () => {
    const seen = new Set<string>();
    for (const entry of COMMAND_TABLE) {
      const commands = await entry.load();
      const implementation = commands.find((c) => c.name === entry.name) as Parameters<typeof declaration>[0] | undefined;
      assert.ok(implementation, `no implementation of ${entry.name}`);
      assert.deepEqual(declaration(entry), declaration(implementation));
      for (const c of commands) seen.add(c.name);
    }
    // A command added to an implementation module but not to the table would be unreachable.
    assert.deepEqual([...seen].sort(), COMMAND_TABLE.map((c) => c.name).sort());
  });

  it("keeps the Jira connector's eager declarations equal to its commands' code", () => {
    assert.deepEqual(jiraConnector.commands.map(declaration), JIRA_COMMANDS.map(declaration));
  });

  const HEAVY = [/ops[/\\]commands[/\\]/, /node_modules[/\\]@duckdb[/\\]/, /node_modules[/\\]fastify[/\\]/, /node_modules[/\\]apache-arrow[/\\]/, /node_modules[/\\]parquet-wasm[/\\]/];
  // --help and --version print no argument back, and `--help` can hold no secret: none loads the configuration module (secret masking).
  for (const args of [['--help'], ['--version'], ['sync', '--help']]) {
    it(`\`ada ${args.join(' ')}\` loads no command implementation, DuckDB, fastify or Arrow, nor the configuration`, () => {
      const log = loaded(args);
      assert.match(log, /ops[/\\]command-table\.ts/, 'the debug log lists loaded modules');
      for (const heavy of [...HEAVY, /config[/\\]index\.ts/, /node_modules[/\\]yaml[/\\]/]) assert.doesNotMatch(log, heavy);
    });
  }
});
