/**
 * The Jira connector as one self-contained module: enabled exactly when `jira.domain` (or `JIRA_DOMAIN`) is
 * set; then it contributes its webhook route, reactor, projection, timers, health checks, commands and docs.
 * Nothing outside this folder imports anything but this file. Declarations load eagerly; the runtime (client,
 * reactor, projection with apache-arrow and parquet-wasm, timers) and the commands' code load on first use, so a
 * process that only reads the configuration never pays for them.
 */
import { BACKFILL_DECLARATION } from './backfill-declaration.ts';
import type { AdaConfig } from '../../config/index.ts';
import { adaError } from '../../events/index.ts';
import type { JiraCommandSpec } from './commands.ts';
import type { buildJira, startJira } from './runtime.ts';
import type { JiraThreadHost, JiraThreadRuntime } from './runtime-thread.ts';
import { JiraErrorCode } from './errors.ts';
import { jiraEnabled, readJiraConfig } from './settings.ts';
import { JIRA_TABLE_NAMES } from './tables.ts';
import { jiraDeclaredTables } from './declared-tables.ts';
import type { DeclaredTables } from '../../config/index.ts';

export type { JiraCommandSpec, OpenBroker, CommandBroker } from './commands.ts';
export type { JiraHost, JiraRuntime } from './runtime.ts';
export type { JiraThreadHost, JiraThreadRuntime } from './runtime-thread.ts';
export type { JiraSettings } from './settings.ts';
export { JiraErrorCode } from './errors.ts';

type Env = Readonly<Record<string, string | undefined>>;
type Host = Parameters<typeof buildJira>[0];

const runtime = () => import('./runtime.ts');
const built = async (host: Host) => (await runtime()).buildJira(host);

/** `ada jira backfill` as declared in ./commands.ts (tests/unit/command-table.test.ts keeps the two equal); its code loads on dispatch. */
const backfillCommand: JiraCommandSpec = {
  ...BACKFILL_DECLARATION,
  async run(args, ctx, open) {
    const { JIRA_COMMANDS } = await import('./commands.ts');
    return JIRA_COMMANDS.find((c) => c.name === backfillCommand.name)!.run(args, ctx, open);
  },
};

/** The Jira connector module. */
export const jiraConnector = {
  type: 'jira',
  config: jiraConfig,
  /** Datasets it publishes: the tables, and the downloaded attachment files as their own dataset. */
  datasets: ['jira', 'jira_attachments'] as const,
  tables: JIRA_TABLE_NAMES,
  /** The tables and datasets it publishes itself, for the catalog, profiler, manifests and portal (only while enabled). */
  declaredTables: (config: AdaConfig): DeclaredTables => jiraDeclaredTables({ private: config.instance.jira?.private ?? false }),
  /** True exactly when a Jira domain is configured. */
  enabled: (config: AdaConfig, env: Env): boolean => jiraEnabled(config, env),
  /** Validates the `jira` section (and `JIRA_*` variables): settings, or problems with file and key. */
  readConfig: readJiraConfig,
  /** Routes, reactor, projection, timers and health checks built from a host, without starting anything. */
  build: built,
  /** Everything above, started: caught up, following the log, timers running. */
  start: async (host: Parameters<typeof startJira>[0]): Promise<Awaited<ReturnType<typeof startJira>>> => (await runtime()).startJira(host),
  /** `start` on a thread of its own, as the server runs it. */
  startThread: async (host: JiraThreadHost): Promise<JiraThreadRuntime> => (await import('./runtime-thread.ts')).startJiraThread(host),
  /** `startThread` from the instance configuration (settings validated first). */
  startService: (host: Parameters<typeof startJiraService>[0]) => startJiraService(host),
  /** `POST /webhooks/jira` as a fastify plugin for a host. */
  routes: async (host: Host) => (await built(host)).routes,
  /** The reactor (fetches issues) and the projection (monthly Parquet) of a host. */
  reactors: async (host: Host) => [(await built(host)).reactor],
  projections: async (host: Host) => [(await built(host)).projection],
  /** Timers (consistency every 30 min, deep pass weekly, SLA poll every 15 min when SLA fields are set). */
  timers: async (host: Host) => (await built(host)).timers,
  healthChecks: async (host: Host, now: Date) => (await built(host)).healthChecks(now),
  /** `ada jira backfill`. */
  commands: [backfillCommand] as readonly JiraCommandSpec[],
  /** The user documentation page. */
  docs: 'docs/jira.md',
};

/**
 * Starts Jira inside the server from the instance configuration, its reactor, projection and timers on a thread of
 * their own (the webhook route stays on the main thread); throws `CONFIG_INVALID` with file and key when its
 * settings are wrong.
 */
export async function startJiraService(host: Omit<JiraThreadHost, 'settings'> & { config: AdaConfig; env: Env }): Promise<JiraThreadRuntime> {
  const { settings, problems, warnings } = readJiraConfig(host.config, host.env);
  if (!settings) throw adaError(JiraErrorCode.configInvalid, problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n') || 'Jira is not enabled');
  for (const w of warnings) host.warn(`${w.file}: ${w.path}: ${w.message}`);
  return (await import('./runtime-thread.ts')).startJiraThread({ ...host, settings });
}
export { jiraConfig } from './jira-config.ts';
import { jiraConfig } from './jira-config.ts';
