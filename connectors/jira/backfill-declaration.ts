/** `ada jira backfill` as the command line declares it (no code of it): cheap to load for help and parsing. */
import type { ParseArgsConfig } from 'node:util';

/** What the command line knows of a Jira command before loading its code: name, summary, usage and options. */
export interface JiraCommandDeclaration {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
}

/** The command's name, summary, usage and options. */
export const BACKFILL_DECLARATION: JiraCommandDeclaration = {
  name: 'jira backfill',
  summary: 'Fetch Jira issues by JQL or key into the log (and the Jira tables), or refresh only remote links or SLA fields',
  usage: 'ada jira backfill (--jql Q | --issue-keys K1,K2) [--parallel 4] [--skip-existing] [--dry-run] [--remote-links | --sla] [--json]',
  options: {
    config: { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    jql: { type: 'string' }, 'issue-keys': { type: 'string' }, parallel: { type: 'string' },
    'skip-existing': { type: 'boolean' }, 'dry-run': { type: 'boolean' }, 'remote-links': { type: 'boolean' }, sla: { type: 'boolean' }, json: { type: 'boolean' },
  },
};
