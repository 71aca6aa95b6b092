/** The `ada` command line: dispatches to the commands, prints help, maps errors to exit codes. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { Command, CommandContext } from './command.ts';
import { eventsCommands, UsageError } from './commands/events.ts';
import { configCommands } from './commands/config.ts';
import { syncCommands } from './commands/sync.ts';
import { serveCommands } from './commands/serve.ts';
import { healthCommands } from './commands/health.ts';
import { analystCommands } from './commands/analyst.ts';
import { profileCommands } from './commands/profile.ts';
import { initCommands } from './commands/init.ts';
import { pullCommands } from './commands/pull.ts';
import { mcpCommands } from './commands/mcp.ts';
import { watchCommands } from './commands/watch.ts';

/** Every command, in the order `ada --help` lists them. */
export const COMMANDS: Command[] = [...initCommands, ...configCommands, ...syncCommands, ...profileCommands, ...serveCommands, ...healthCommands, ...analystCommands, ...eventsCommands, ...pullCommands, ...watchCommands, ...mcpCommands];

function version(): string {
  // ops/cli.ts from sources, dist/ops/cli.js from the build: package.json is one or two levels up.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // Try the next place.
    }
  }
  return 'unknown';
}

/** The text of `ada --help`. */
export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'ada — AI Data Analyst: sources to Parquet, profiled, documented and distributed to analysts.',
    '',
    'Usage: ada <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options for every command:',
    '  --config DIR   configuration directory (default $CONFIG_DIR, else ./config)',
    '  --data DIR     data directory (default $DATA_DIR, else ./data)',
    '  -h, --help     the command\'s usage',
    '',
    'ada --version prints the version. Docs: docs/ (start with README.md).',
  ].join('\n');
}

/** Finds the command whose words start `argv` (longest match). */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.command.name.split(' ').length)) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/** Runs the CLI with the given arguments; returns the exit code. */
export async function main(ctx: CommandContext): Promise<number> {
  const { argv } = ctx;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    ctx.out(helpText());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    ctx.out(version());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
    if (group.length > 0) {
      ctx.err(`ada ${argv[0]}: choose one of:\n${group.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`).join('\n')}`);
    } else {
      ctx.err(`ada: unknown command ${JSON.stringify(argv.join(' '))}; run \`ada --help\` for the list`);
    }
    return 2;
  }
  const { command, rest } = found;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.allowPositionals ?? false, strict: true });
  } catch (err) {
    ctx.err(`ada ${command.name}: ${(err as Error).message}\nusage: ${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    ctx.out(`${command.summary}\n\nusage: ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(parsed as never, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.err(`ada ${command.name}: ${err.message}\nusage: ${command.usage}`);
      return 2;
    }
    const code = (err as { code?: string }).code;
    ctx.err(`ada ${command.name}: ${code ? `[${code}] ` : ''}${(err as Error).message ?? String(err)}`);
    if (ctx.env.ADA_DEBUG) ctx.err((err as Error).stack ?? '');
    // A configuration to fix is a usage problem (2), like a wrong flag; anything else failed while working (1).
    return code === 'CONFIG_INVALID' || code === 'CONFIG_MISSING' ? 2 : 1;
  }
}

/** Runs the CLI for this process: its arguments, environment, streams and signals; sets the exit code. */
export async function runFromProcess(): Promise<void> {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => controller.abort());
  }
  process.exitCode = await main({
    argv: process.argv.slice(2),
    env: process.env,
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    isTTY: Boolean(process.stdout.isTTY),
    signal: controller.signal,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runFromProcess();
