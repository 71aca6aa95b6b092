/**
 * The Jira connector as one self-contained module: enabled exactly when `jira.domain` (or `JIRA_DOMAIN`) is
 * set; then it contributes its webhook route, reactor, projection, timers, health checks, commands and docs.
 * Nothing outside this folder imports anything but this file.
 */
import type { AdaConfig } from '../../config/index.ts';
import { adaError } from '../../events/index.ts';
import { JIRA_COMMANDS } from './commands.ts';
import { JiraErrorCode } from './errors.ts';
import { buildJira, startJira } from './runtime.ts';
import { jiraEnabled, readJiraConfig } from './settings.ts';
import { JIRA_TABLE_NAMES } from './tables.ts';

export type { JiraCommandSpec, OpenBroker, CommandBroker } from './commands.ts';
export type { JiraHost, JiraRuntime } from './runtime.ts';
export type { JiraSettings } from './settings.ts';
export { JiraErrorCode } from './errors.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The Jira connector module. */
export const jiraConnector = {
  type: 'jira',
  config: jiraConfig,
  /** Datasets it publishes: the tables, and the downloaded attachment files as their own dataset. */
  datasets: ['jira', 'jira_attachments'] as const,
  tables: JIRA_TABLE_NAMES,
  /** True exactly when a Jira domain is configured. */
  enabled: (config: AdaConfig, env: Env): boolean => jiraEnabled(config, env),
  /** Validates the `jira` section (and `JIRA_*` variables): settings, or problems with file and key. */
  readConfig: readJiraConfig,
  /** Routes, reactor, projection, timers and health checks built from a host, without starting anything. */
  build: buildJira,
  /** Everything above, started: caught up, following the log, timers running. */
  start: startJira,
  /** `start` from the instance configuration (settings validated first). */
  startService: (host: Parameters<typeof startJiraService>[0]) => startJiraService(host),
  /** `POST /webhooks/jira` as a fastify plugin for a host. */
  routes: (host: Parameters<typeof buildJira>[0]) => buildJira(host).routes,
  /** The reactor (fetches issues) and the projection (monthly Parquet) of a host. */
  reactors: (host: Parameters<typeof buildJira>[0]) => [buildJira(host).reactor],
  projections: (host: Parameters<typeof buildJira>[0]) => [buildJira(host).projection],
  /** Timers (consistency every 30 min, deep pass weekly, SLA poll every 15 min when SLA fields are set). */
  timers: (host: Parameters<typeof buildJira>[0]) => buildJira(host).timers,
  healthChecks: (host: Parameters<typeof buildJira>[0], now: Date) => buildJira(host).healthChecks(now),
  /** `ada jira backfill`. */
  commands: JIRA_COMMANDS,
  /** The user documentation page. */
  docs: 'docs/jira.md',
};

/** Starts Jira inside the server from the instance configuration; throws `CONFIG_INVALID` with file and key when its settings are wrong. */
export async function startJiraService(host: Omit<Parameters<typeof startJira>[0], 'settings'> & { config: AdaConfig; env: Env }): Promise<Awaited<ReturnType<typeof startJira>>> {
  const { settings, problems, warnings } = readJiraConfig(host.config, host.env);
  if (!settings) throw adaError(JiraErrorCode.configInvalid, problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n') || 'Jira is not enabled');
  for (const w of warnings) host.warn(`${w.file}: ${w.path}: ${w.message}`);
  return startJira({ ...host, settings });
}
export { jiraConfig } from './jira-config.ts';
import { jiraConfig } from './jira-config.ts';
