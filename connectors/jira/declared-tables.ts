/**
 * The tables and datasets Jira publishes itself (its projection announces each month with `TablePublished`), as it
 * declares them to the catalog, profiler, manifests and portal: dataset `jira` with the six tables, and
 * `jira_attachments`, the downloaded attachment files, as a dataset of its own (as the original had).
 */
import type { DeclaredTables } from '../../config/index.ts';
import { JIRA_TABLES, JIRA_TABLE_NAMES } from './tables.ts';
import type { JiraTable } from './tables.ts';

/** Folder of the Jira tables under `parquet/`, and their dataset. */
export const JIRA_FOLDER = 'jira';
/** Dataset of the downloaded attachment files (`<data>/attachments/jira/`). */
export const ATTACHMENTS_DATASET = 'jira_attachments';

const DESCRIPTIONS: Record<JiraTable, { description: string; key: string[] }> = {
  issues: { description: 'Jira issues, one row per issue (latest version), by created month', key: ['issue_key'] },
  comments: { description: 'Comments of Jira issues', key: ['comment_id'] },
  attachments: { description: 'Attachments of Jira issues (the files are the jira_attachments dataset)', key: ['attachment_id'] },
  changelog: { description: 'Change history of Jira issues, one row per changed field', key: ['history_id', 'field'] },
  issuelinks: { description: 'Links between Jira issues, with their direction', key: ['issue_key', 'link_id'] },
  remote_links: { description: 'Remote (web) links of Jira issues', key: ['remote_link_id'] },
};

/** Jira's declaration; `private` makes every Jira table visible to privileged analysts and admins only (`jira.private`). */
export function jiraDeclaredTables(opts: { private: boolean }): DeclaredTables {
  return {
    source: 'jira',
    tables: JIRA_TABLE_NAMES.map((table) => ({
      name: table,
      description: DESCRIPTIONS[table].description,
      folder: JIRA_FOLDER,
      dataset: JIRA_FOLDER,
      primaryKey: DESCRIPTIONS[table].key,
      partitionBy: 'created',
      private: opts.private,
      columns: JIRA_TABLES[table].map((c) => ({ name: c.name, ...('description' in c ? { description: c.description } : {}) })),
      ...(table === 'issues' ? {} : { foreignKeys: [{ column: 'issue_key', references: 'issues.issue_key' }] }),
    })),
    datasets: [
      { key: JIRA_FOLDER, label: 'Jira', description: 'Jira issues, comments, attachments, changelog and links, by created month', requires: [] },
      { key: ATTACHMENTS_DATASET, label: 'Jira attachments', description: 'The files attached to Jira issues', requires: [JIRA_FOLDER], ...(opts.private ? { private: true } : {}) },
    ],
  };
}
