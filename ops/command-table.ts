/**
 * The table of `ada` commands: names, summaries, usage and options, declared here so `ada --help`, `ada X --help`
 * and argument parsing load no implementation. Each entry's `load` imports its implementation on dispatch only
 * (DuckDB, fastify, the connectors and the profiler stay unloaded for commands that do not use them).
 * tests/unit/command-table.test.ts checks every entry against the implementation's own declaration.
 */
import type { Command } from './command.ts';
import { commonOptions } from './command.ts';
import { CONNECTOR_COMMAND_DECLARATIONS } from '../connectors/commands.ts';

/** A command as the table declares it: everything but `run`, and how to load the implementation. */
export interface CommandEntry extends Omit<Command, 'run'> {
  /** Imports the module that implements this command; returns its commands (this one among them, by name). */
  load(): Promise<ReadonlyArray<Pick<Command, 'name' | 'run'>>>;
  /**
   * Set when the connectors shape the options and usage (`ada init` asks each connector's questions): its
   * implementation's declaration is loaded before the arguments are parsed, so a deleted connector's flags are gone.
   */
  connectorShaped?: boolean;
  /**
   * Set when, with `ada serve` running on the data directory, the command only asks the server (`ada sync`): run from
   * the build's modules one by one, it loads a few of them, where the single-file bundle (bin/ada.js) costs more.
   */
  thinWhenServed?: boolean;
}

const init = async () => (await import('./commands/init.ts')).initCommands;
const config = async () => (await import('./commands/config.ts')).configCommands;
const sync = async () => (await import('./commands/sync.ts')).syncCommands;
const profile = async () => (await import('./commands/profile.ts')).profileCommands;
const serve = async () => (await import('./commands/serve.ts')).serveCommands;
const health = async () => (await import('./commands/health.ts')).healthCommands;
const analyst = async () => (await import('./commands/analyst.ts')).analystCommands;
const events = async () => (await import('./commands/events.ts')).eventsCommands;
const pull = async () => (await import('./commands/pull.ts')).pullCommands;
const watch = async () => (await import('./commands/watch.ts')).watchCommands;
const mcp = async () => (await import('./commands/mcp.ts')).mcpCommands;
const connectors = async () => {
  const [{ connectorCommands }, { openCommandBroker }] = await Promise.all([import('../connectors/index.ts'), import('./connector-commands.ts')]);
  return connectorCommands(openCommandBroker);
};

/** Every command, in the order `ada --help` lists them. */
export const COMMAND_TABLE: readonly CommandEntry[] = [
  {
    name: 'init',
    summary: 'Set up an instance: ask for the domain and source, check the token, write instance.yaml, .env and data_description.md',
    usage: 'ada init [--config DIR] [--docs DIR] [--force] [--add-new-tables]   (asks; on a pipe, reads one answer per line)\n       ada init --non-interactive --domain D --source keboola|csv [--name N]\n                [--stack-url URL] [--project-id N] [--csv-dir DIR]\n                [--token-env VAR | --token T] [--buckets all|A,B] [--config DIR] [--docs DIR] [--force] [--add-new-tables]',
    options: { ...commonOptions, 'non-interactive': { type: 'boolean' }, domain: { type: 'string' }, source: { type: 'string' }, name: { type: 'string' }, 'stack-url': { type: 'string' }, 'project-id': { type: 'string' }, 'csv-dir': { type: 'string' }, 'token-env': { type: 'string' }, token: { type: 'string' }, buckets: { type: 'string' }, docs: { type: 'string' }, force: { type: 'boolean' }, 'add-new-tables': { type: 'boolean' } },
    load: init,
    connectorShaped: true,
  },
  {
    name: 'config check',
    summary: 'Load and validate the configuration; print it with secrets masked, or every problem (exit 2)',
    usage: 'ada config check [--config DIR] [--data DIR] [--json]',
    options: { ...commonOptions, json: { type: 'boolean' } },
    load: config,
  },
  {
    name: 'sync',
    summary: 'Sync tables from their sources into Parquet (all, or --table NAME...); exit 1 if any failed',
    usage: 'ada sync [--config DIR] [--data DIR] [--table NAME]... [--full-refresh] [--json]',
    options: { ...commonOptions, table: { type: 'string', multiple: true, short: 't' }, 'full-refresh': { type: 'boolean' }, json: { type: 'boolean' } },
    load: sync,
    thinWhenServed: true,
  },
  {
    name: 'replay',
    summary: 'Rebuild a projection\'s outputs from the event log (all projections by default); Parquet is rebuilt aside and swapped in table by table',
    usage: 'ada replay [--projection NAME]... [--config DIR] [--data DIR] [--json]',
    options: { ...commonOptions, projection: { type: 'string', multiple: true, short: 'p' }, json: { type: 'boolean' } },
    load: sync,
  },
  {
    name: 'profile',
    summary: 'Profile published tables (all, or --table NAME...) into metadata/profiles.json; exit 1 if any failed',
    usage: 'ada profile [--config DIR] [--data DIR] [--table NAME]... [--json] [--sample-threshold ROWS] [--memory-limit SIZE]',
    options: { ...commonOptions, table: { type: 'string', multiple: true, short: 't' }, json: { type: 'boolean' }, 'sample-threshold': { type: 'string' }, 'memory-limit': { type: 'string' } },
    load: profile,
  },
  {
    name: 'serve',
    summary: 'Run the broker: timers that sync tables on schedule, and the web server (GET /health)',
    usage: 'ada serve [--port 3000] [--host 127.0.0.1] [--config DIR] [--data DIR]',
    options: { ...commonOptions, port: { type: 'string', short: 'p' }, host: { type: 'string' } },
    load: serve,
  },
  {
    name: 'health',
    summary: 'Report the broker\'s health (tables, timers, projections, disk, load); exit 0 healthy, 1 degraded, 2 unhealthy',
    usage: 'ada health [--json] [--config DIR] [--data DIR]',
    options: { ...commonOptions, json: { type: 'boolean' } },
    load: health,
  },
  {
    name: 'analyst add',
    summary: 'Add an analyst (--private: sees private tables, --admin) with an optional email and SSH public key',
    usage: 'ada analyst add NAME [--private | --admin] [--email E] [--ssh-key "ssh-ed25519 AAAA…" | --ssh-key PATH.pub] [--config DIR] [--data DIR]',
    options: { ...commonOptions, private: { type: 'boolean' }, admin: { type: 'boolean' }, email: { type: 'string' }, 'ssh-key': { type: 'string' } },
    allowPositionals: true,
    load: analyst,
  },
  {
    name: 'analyst list',
    summary: 'List analysts and admins: role, email, SSH key fingerprint, tokens, when added',
    usage: 'ada analyst list [--json] [--config DIR] [--data DIR]',
    options: { ...commonOptions, json: { type: 'boolean' } },
    load: analyst,
  },
  {
    name: 'analyst remove',
    summary: 'Remove an analyst; their tokens stop working at once',
    usage: 'ada analyst remove NAME [--config DIR] [--data DIR]',
    options: { ...commonOptions },
    allowPositionals: true,
    load: analyst,
  },
  {
    name: 'analyst token',
    summary: 'Issue a personal token (printed once), or --revoke [TOKEN_ID] one or all of them',
    usage: 'ada analyst token NAME [--revoke [TOKEN_ID]] [--config DIR] [--data DIR]',
    options: { ...commonOptions, revoke: { type: 'boolean' } },
    allowPositionals: true,
    load: analyst,
  },
  {
    name: 'analyst ssh-key',
    summary: 'Set or replace an analyst\'s SSH public key (text or a .pub file), or --remove it',
    usage: 'ada analyst ssh-key NAME ("ssh-ed25519 AAAA…" | PATH.pub | --remove) [--config DIR] [--data DIR]',
    options: { ...commonOptions, remove: { type: 'boolean' } },
    allowPositionals: true,
    load: analyst,
  },
  {
    name: 'analyst subscribe',
    summary: 'Subscribe an analyst to a dataset: its tables join their next pull',
    usage: 'ada analyst subscribe NAME DATASET [--config DIR] [--data DIR]',
    options: { ...commonOptions },
    allowPositionals: true,
    load: analyst,
  },
  {
    name: 'analyst unsubscribe',
    summary: 'Unsubscribe an analyst from a dataset: its tables leave their next pull',
    usage: 'ada analyst unsubscribe NAME DATASET [--config DIR] [--data DIR]',
    options: { ...commonOptions },
    allowPositionals: true,
    load: analyst,
  },
  {
    name: 'events tail',
    summary: 'Print the newest events of the log (or from a position); -f keeps following',
    usage: 'ada events tail [-f] [--type T]... [--from POS] [-n N] [--json] [--data DIR]',
    options: { ...commonOptions, follow: { type: 'boolean', short: 'f' }, type: { type: 'string', multiple: true }, from: { type: 'string' }, lines: { type: 'string', short: 'n' }, json: { type: 'boolean' } },
    load: events,
  },
  {
    name: 'events show',
    summary: 'Print one event in full, by position',
    usage: 'ada events show POS [--data DIR]',
    options: { ...commonOptions },
    allowPositionals: true,
    load: events,
  },
  {
    name: 'events stats',
    summary: 'Records and bytes by event type, segments, first and last time, head position',
    usage: 'ada events stats [--json] [--data DIR]',
    options: { ...commonOptions, json: { type: 'boolean' } },
    load: events,
  },
  {
    name: 'events verify',
    summary: 'Check every record of the log (CRC, positions, JSON), and with --blobs every referenced blob; exit code 1 on corruption',
    usage: 'ada events verify [--blobs] [--json] [--data DIR]',
    options: { ...commonOptions, blobs: { type: 'boolean' }, json: { type: 'boolean' } },
    load: events,
  },
  {
    name: 'pull',
    summary: 'Download your tables from the broker into DIR/server, with DuckDB views and assistant guides',
    usage: 'ada pull [--server URL] [--token T | $ADA_TOKEN] [--dir DIR] [--dry-run] [--json]',
    options: { server: { type: 'string' }, token: { type: 'string' }, dir: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    load: pull,
  },
  {
    name: 'watch',
    summary: 'Follow updates of your tables live (desktop notifications when available); --pull pulls on each publish',
    usage: 'ada watch [--pull] [--dir DIR] [--server URL] [--token T | $ADA_TOKEN]',
    options: { pull: { type: 'boolean' }, dir: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    load: watch,
  },
  {
    name: 'mcp',
    summary: 'Serve your pulled tables to an AI assistant (Model Context Protocol over stdio; registered in .mcp.json)',
    usage: 'ada mcp [--dir DIR] [--max-rows 1000] [--max-bytes 1048576] [--timeout-ms 30000]',
    options: { dir: { type: 'string' }, 'max-rows': { type: 'string' }, 'max-bytes': { type: 'string' }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    load: mcp,
  },
  // Commands of the connectors this build has (`ada jira backfill`), from their cheap declarations.
  ...CONNECTOR_COMMAND_DECLARATIONS.map((c): CommandEntry => ({ ...c, options: { ...c.options }, load: connectors })),
];
