/** `ada config check`: load and validate the configuration, print it with secrets masked. */
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { configCheck } from './config-check.ts';

const check: Command = {
  name: 'config check',
  summary: 'Load and validate the configuration; print it with secrets masked, or every problem (exit 2)',
  usage: 'ada config check [--config DIR] [--json]',
  options: { ...commonOptions, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    return configCheck({ configDir: values.config as string | undefined, env: ctx.env, json: Boolean(values.json), out: ctx.out });
  },
};

/** The `ada config …` commands. */
export const configCommands: Command[] = [check];
