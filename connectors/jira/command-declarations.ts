/** Jira's commands as `ada --help` lists them: declarations only, no code (read by connectors/commands.ts). */
import { BACKFILL_DECLARATION } from './backfill-declaration.ts';
import type { JiraCommandSpec } from './commands.ts';

/** `ada jira backfill`. */
export const JIRA_COMMAND_DECLARATIONS: ReadonlyArray<Omit<JiraCommandSpec, 'run'>> = [BACKFILL_DECLARATION];
