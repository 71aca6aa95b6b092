/**
 * The `ada` command line's dispatcher: prints help and the version, parses arguments against the command table,
 * loads the chosen command's implementation, maps errors to exit codes. Imports nothing heavy eagerly (not even
 * the configuration module, loaded only to mask an argument that may be a secret), so `ada --version`, `ada --help`
 * and an `ada sync` answered by a running server cost little more than starting Node.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CommandContext } from './command.ts';
import { COMMAND_TABLE } from './command-table.ts';
import type { CommandEntry } from './command-table.ts';
import { controlSocketOf } from './control/socket-path.ts';
import { dataDirOf } from './paths.ts';
import { tightenDataDir, tightenedLine, usePrivateUmask } from './private-files.ts';

/** Every command, in the order `ada --help` lists them (declarations only; implementations load on dispatch). */
export const COMMANDS: readonly CommandEntry[] = COMMAND_TABLE;

function version(): string {
  // ops/command-main.ts from sources, dist/ops/command-main.js from the build: package.json is one or two levels up.
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
function findCommand(argv: string[]): { command: CommandEntry; rest: string[] } | undefined {
  let best: { command: CommandEntry; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.command.name.split(' ').length)) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/**
 * Values of options whose name `isSecret` says are secrets (`--token X`, `--token=X`, `--storage-token X`,
 * `--password=…`), so no error message can echo them, whatever the command or the mistake.
 */
export function secretArgValuesWith(argv: readonly string[], isSecret: (key: string) => boolean): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m || !isSecret(m[1]!)) continue;
    if (m[2] !== undefined) values.push(m[2]);
    else if (i + 1 < argv.length) values.push(argv[++i]!);
  }
  return values.filter((v) => v !== '');
}

/**
 * Option names that never hold a secret (tests/unit/command-main.test.ts checks them against `isSecretKey`). When
 * every option of a command line is one of them there is nothing to mask, and the configuration module (the YAML
 * parser, the event log's code) stays unloaded: `ada sync` through a running server loads none of it.
 */
export const PLAIN_OPTIONS: ReadonlySet<string> = new Set(['config', 'data', 'json', 'table', 't', 'full-refresh', 'help', 'h', 'projection', 'p']);

/** True when no argument of `argv` can name a secret: every option (as `secretArgValuesWith` reads them) is plain. */
export function onlyPlainOptions(argv: readonly string[]): boolean {
  return argv.every((arg) => {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(arg);
    return !m || PLAIN_OPTIONS.has(m[1]!);
  });
}

/**
 * True when `ada serve`'s control socket is in the data dir: the server tightened the dir when it started and creates
 * nothing readable by others, so a command that talks to it need not walk every file again (one stat, not one per file).
 */
function servedDataDir(dataDir: string): boolean {
  try {
    return lstatSync(controlSocketOf(dataDir), { throwIfNoEntry: false })?.isSocket() ?? false;
  } catch {
    // Not a directory on the way (`run` a file): no server there.
    return false;
  }
}

/** The command line of the build's single-file bundle (dist/ada.cjs): its `main` runs a whole command line. */
export interface BundledCli {
  main(ctx: CommandContext): Promise<number>;
}

/** How `main` runs. */
export interface MainOptions {
  /**
   * The bundle (bin/ada.js loads it on demand; undefined when the build made none). A command that needs more than
   * this module's few imports runs there, from the start: its modules then load as one file with V8's code cache,
   * not one by one. `--help`, `--version` and an `ada sync` answered by a running server stay here (they load
   * less than the bundle costs to open).
   */
  bundled?: () => Promise<BundledCli | undefined>;
}

/** Runs the CLI with the given arguments; returns the exit code. */
export async function main(outer: CommandContext, options: MainOptions = {}): Promise<number> {
  usePrivateUmask();
  // Neither prints an argument back: answered before the configuration module (secret masking) is loaded.
  if (outer.argv.length === 0 || outer.argv[0] === '--help' || outer.argv[0] === '-h' || outer.argv[0] === 'help') {
    outer.out(helpText());
    return 0;
  }
  if (outer.argv[0] === '--version' || outer.argv[0] === '-v') {
    outer.out(version());
    return 0;
  }
  // Only a command that may be thin stays to see whether a server answers for it; the others go at once, before this
  // module loads anything for them (the configuration module to mask a secret, a connector's declarations).
  const bundled = options.bundled && (() => options.bundled!().then((cli) => cli?.main(outer)));
  if (bundled && !COMMANDS.some((c) => c.thinWhenServed && c.name.split(' ')[0] === outer.argv[0])) {
    const code = await bundled();
    if (code !== undefined) return code;
  }
  let ctx = outer;
  if (!onlyPlainOptions(outer.argv)) {
    const { isSecretKey, maskSecrets } = await import('../config/index.ts');
    const secrets = secretArgValuesWith(outer.argv, isSecretKey);
    if (secrets.length > 0) ctx = { ...outer, err: (text) => outer.err(maskSecrets(text, secrets)) };
  }
  const { argv } = ctx;
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
  const { rest } = found;
  let command = found.command;
  if (command.connectorShaped) {
    const declared = (await command.load()).find((c) => c.name === command.name) as Partial<CommandEntry> | undefined;
    if (declared?.options && declared.usage) command = { ...command, options: declared.options, usage: declared.usage };
  }
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
    let tightened: Promise<number> | undefined;
    let dataDir = '';
    if ('data' in command.options) {
      dataDir = dataDirOf(parsed.values.data, ctx.env);
      const served = servedDataDir(dataDir);
      if (bundled && !(command.thinWhenServed && served)) {
        const code = await bundled();
        if (code !== undefined) return code;
      }
      // `ada serve` itself always walks: a socket it finds was left by a server killed without cleanup.
      if (command.name === 'serve' || !served) tightened = tightenDataDir(dataDir);
    }
    // The walk's stats and the loading of the command's modules (read asynchronously) overlap; the command runs once
    // both are done. tightenDataDir does not reject.
    const [changed, implementations] = await Promise.all([tightened ?? 0, command.load()]);
    if (changed > 0) ctx.err(tightenedLine(dataDir, changed));
    const implementation = implementations.find((c) => c.name === command.name);
    if (!implementation) throw new Error(`no implementation of \`ada ${command.name}\``);
    return await implementation.run(parsed as never, ctx);
  } catch (err) {
    // Loaded only on this path (a file of its own, importing nothing).
    const { UsageError } = await import('./usage-error.ts');
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

/** Exit codes of a process ended by a second signal (128 + the signal's number, as shells report it). */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Aborts `controller` on the first SIGINT or SIGTERM (the command stops cleanly); a second one
 * exits at once. The listeners stay installed: with none left, a library's signal hook (the log
 * lock's) would re-raise the signal and kill the process in the middle of its clean stop.
 */
export function abortOnSignals(controller: AbortController): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (controller.signal.aborted) process.exit(SIGNAL_EXIT[sig]);
      controller.abort();
    });
  }
}

/** Runs the CLI for this process: its arguments, environment, streams and signals; sets the exit code. */
export async function runFromProcess(options: MainOptions = {}): Promise<void> {
  const controller = new AbortController();
  abortOnSignals(controller);
  process.exitCode = await main({
    argv: process.argv.slice(2),
    env: process.env,
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    isTTY: Boolean(process.stdout.isTTY),
    signal: controller.signal,
  }, options);
}

