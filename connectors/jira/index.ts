/** Public face of the Jira connector: for now its configuration section (the sync, webhook route and timers follow). */
export { jiraConfig } from './jira-config.ts';
export type { JiraSettings } from './jira-config.ts';
