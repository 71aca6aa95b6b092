/** `ada config check`: load and validate the configuration, print it with secrets masked. */
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { configCheck } from './config-check.ts';
import { configDirOf, dataDirOf } from '../paths.ts';
import { permissionWarnings } from '../private-files.ts';

const check: Command = {
  name: 'config check',
  summary: 'Load and validate the configuration; print it with secrets masked, or every problem (exit 2)',
  usage: 'ada config check [--config DIR] [--data DIR] [--json]',
  options: { ...commonOptions, json: { type: 'boolean' } },
  async run({ values }, ctx) {
    const code = await configCheck({ configDir: values.config as string | undefined, env: ctx.env, json: Boolean(values.json), out: ctx.out });
    for (const w of await permissionWarnings(configDirOf(values.config, ctx.env), dataDirOf(values.data, ctx.env))) ctx.err(`warning: ${w}`);
    return code;
  },
};

/** The `ada config …` commands. */
export const configCommands: Command[] = [check];
