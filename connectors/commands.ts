/**
 * The commands connectors add to `ada`, as declarations only (name, summary, usage, options), so the command line
 * lists and parses them without loading any connector; `connectorCommands` in ./index.ts runs them. One line per
 * connector that has commands: deleting the connector deletes its line here, and its commands are gone from `ada`.
 */
import { JIRA_COMMAND_DECLARATIONS as jiraCommands } from './jira/command-declarations.ts';

/** A connector command as the command line declares it. */
export interface ConnectorCommandDeclaration {
  name: string;
  summary: string;
  usage: string;
  options: Readonly<Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>>;
}

/** Every connector command this build has. */
export const CONNECTOR_COMMAND_DECLARATIONS: readonly ConnectorCommandDeclaration[] = [
  ...jiraCommands,
];
