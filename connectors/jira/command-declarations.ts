/** Jira's commands as `ada --help` lists them: declarations only, no code (read by connectors/commands.ts). */
import { BACKFILL_DECLARATION } from './backfill-declaration.ts';
import type { JiraCommandDeclaration } from './backfill-declaration.ts';

/** `ada jira backfill`. */
export const JIRA_COMMAND_DECLARATIONS: readonly JiraCommandDeclaration[] = [BACKFILL_DECLARATION];
