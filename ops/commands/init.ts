/** `ada init`: the first-time setup wizard, interactive or driven by flags; later runs add tables new in the source. */
import path from 'node:path';
import type { Command } from '../command.ts';
import { commonOptions } from '../command.ts';
import { stdioPrompter } from '../init/prompter.ts';
import { runInit } from '../init/wizard.ts';
import type { InitFlags } from '../init/wizard.ts';
import { CONNECTORS } from '../../connectors/index.ts';
import { UsageError } from '../usage-error.ts';

/** The connectors' own `ada init` flags (`--stack-url`, `--csv-dir`, …), in registry order. */
const SOURCE_FLAGS = CONNECTORS.flatMap((c) => c.setup?.flags ?? []);
const SETUP_TYPES = CONNECTORS.filter((c) => c.setup).map((c) => c.type);

const USAGE = [
  'ada init [--config DIR] [--docs DIR] [--force] [--add-new-tables]   (asks; on a pipe, reads one answer per line)',
  `       ada init --non-interactive --domain D --source ${SETUP_TYPES.join('|')} [--name N]`,
  `                ${SOURCE_FLAGS.map((f) => `[${f.usage}]`).join(' ')}`,
  `                ${CONNECTORS.some((c) => c.setup?.takesSecret) ? '[--token-env VAR | --token T] ' : ''}[--buckets all|A,B] [--config DIR] [--docs DIR] [--force] [--add-new-tables]`,
].join('\n');

const string = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The flags as the wizard takes them; the token comes from `--token-env VAR` (or `--token`, with a warning). */
export function initFlags(values: Record<string, unknown>, env: NodeJS.ProcessEnv, cwd: string, warn: (text: string) => void): InitFlags {
  const flags: InitFlags = {
    interactive: values['non-interactive'] !== true,
    configDir: path.resolve(cwd, string(values.config) ?? (env.CONFIG_DIR || 'config')),
    force: values.force === true,
    addNewTables: values['add-new-tables'] === true,
    sourceFlags: {},
  };
  const docs = string(values.docs);
  if (docs !== undefined) flags.docsDir = path.resolve(cwd, docs);
  for (const key of ['domain', 'source', 'name', 'buckets'] as const) {
    const value = string(values[key]);
    if (value !== undefined) flags[key] = value;
  }
  for (const { name } of SOURCE_FLAGS) {
    const value = string(values[name]);
    if (value !== undefined) flags.sourceFlags[name] = value;
  }
  const tokenEnv = string(values['token-env']);
  const token = string(values.token);
  if (tokenEnv !== undefined && token !== undefined) throw new UsageError('pass either --token-env VAR or --token T, not both');
  if (tokenEnv !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) throw new UsageError('--token-env takes the name of an environment variable (e.g. KBC_TOKEN), not the token');
    const value = env[tokenEnv];
    if (value === undefined || value === '') throw new UsageError(`--token-env ${tokenEnv}: the environment variable ${tokenEnv} is not set or empty`);
    flags.token = { value, from: `$${tokenEnv}` };
  }
  if (token !== undefined) {
    warn('warning: --token puts the token in your shell history and the process list; prefer --token-env VAR');
    flags.token = { value: token, from: '--token' };
  }
  return flags;
}

const init: Command = {
  name: 'init',
  summary: 'Set up an instance: ask for the domain and source, check the token, write instance.yaml, .env and data_description.md',
  usage: USAGE,
  options: {
    ...commonOptions,
    'non-interactive': { type: 'boolean' },
    domain: { type: 'string' },
    source: { type: 'string' },
    name: { type: 'string' },
    ...Object.fromEntries(SOURCE_FLAGS.map((f) => [f.name, { type: 'string' as const }])),
    'token-env': { type: 'string' },
    token: { type: 'string' },
    buckets: { type: 'string' },
    docs: { type: 'string' },
    force: { type: 'boolean' },
    'add-new-tables': { type: 'boolean' },
  },
  async run({ values }, ctx) {
    const cwd = process.cwd();
    const flags = initFlags(values, ctx.env, cwd, ctx.err);
    const prompter = flags.interactive ? stdioPrompter({ input: process.stdin, output: process.stdout, signal: ctx.signal }) : undefined;
    try {
      return await runInit(flags, { out: ctx.out, err: ctx.err, env: ctx.env, cwd, signal: ctx.signal, now: new Date(), ...(prompter ? { prompter } : {}) });
    } finally {
      prompter?.close();
    }
  },
};

/** The `ada init` command. */
export const initCommands: Command[] = [init];
