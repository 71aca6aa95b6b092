/** The shape of an `ada` command and the context it runs in. */
import type { ParseArgsConfig } from 'node:util';

/** What every command receives: arguments, environment and output streams (never process globals deep down). */
export interface CommandContext {
  argv: string[];
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stdout is a terminal (progress bars, colours). */
  isTTY: boolean;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

/** One `ada` command: its words, a one-line summary, usage text and implementation. */
export interface Command {
  /** e.g. `events tail` */
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  /** Returns the process exit code. */
  run(args: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] }, ctx: CommandContext): Promise<number>;
}

/** Options most commands share. */
export const commonOptions = {
  config: { type: 'string' },
  data: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
