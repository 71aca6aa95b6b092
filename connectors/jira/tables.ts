/** The fixed schema of each Jira table: every month file of a table has exactly these columns. */

/** Column kinds and their Arrow/DuckDB types. */
export type ColumnKind = 'string' | 'int' | 'timestamp' | 'bool' | 'strings';

/** A column of a Jira table. */
export interface JiraColumn { name: string; kind: ColumnKind; description?: string }

const s = (name: string, description?: string): JiraColumn => ({ name, kind: 'string', ...(description ? { description } : {}) });
const ts = (name: string): JiraColumn => ({ name, kind: 'timestamp' });
const int = (name: string): JiraColumn => ({ name, kind: 'int' });

/** Every Jira table and its columns, in file order. */
export const JIRA_TABLES = {
  issues: [
    s('issue_key'), s('issue_id'), s('project_key'), s('summary'), s('status'), s('status_category'), s('issue_type'),
    s('priority'), s('resolution'), s('assignee'), s('assignee_id'), s('reporter'), s('reporter_id'), s('parent_key'),
    ts('created'), ts('updated'), ts('resolved'), s('due_date'),
    { name: 'labels', kind: 'strings' }, { name: 'components', kind: 'strings' }, { name: 'fix_versions', kind: 'strings' },
    s('description', 'ADF description rendered to plain text'),
    s('custom_fields', 'JSON object of the non-empty custom fields, keyed by their names in the field catalogue'),
    { name: 'sla_breached', kind: 'bool' }, int('sla_goal_ms'), int('sla_elapsed_ms'), int('sla_remaining_ms'),
    s('fetched', 'api, or webhook when Jira could not be reached and the webhook body was used'),
  ],
  comments: [s('issue_key'), s('comment_id'), s('author'), s('author_id'), ts('created'), ts('updated'), s('body')],
  attachments: [
    s('issue_key'), s('attachment_id'), s('filename'), int('size'), s('mime_type'), s('author'), ts('created'),
    s('blob_sha256'), s('local_path', 'Path of the downloaded file under the data directory, when downloaded'), s('skipped'),
  ],
  changelog: [
    s('issue_key'), s('history_id'), s('author'), s('author_id'), ts('created'), s('field'), s('field_type'),
    s('from_value'), s('from_string'), s('to_value'), s('to_string'),
  ],
  issuelinks: [s('issue_key'), s('link_id'), s('link_type'), s('direction', 'inward or outward'), s('linked_issue_key'), s('relation')],
  remote_links: [s('issue_key'), s('remote_link_id'), s('global_id'), s('url'), s('title'), s('relationship'), s('application')],
} as const satisfies Record<string, readonly JiraColumn[]>;

/** Name of a Jira table. */
export type JiraTable = keyof typeof JIRA_TABLES;

/** Every Jira table name. */
export const JIRA_TABLE_NAMES = Object.keys(JIRA_TABLES) as JiraTable[];

/** A row: column name → value (string, number, boolean, string list, or null). */
export type Row = Record<string, string | number | boolean | string[] | null>;

/** Rows of one issue, per table. */
export type IssueRows = Record<JiraTable, Row[]>;

/** DuckDB type name of a column kind, for `TablePublished` schemas. */
export function duckdbType(kind: ColumnKind): string {
  switch (kind) {
    case 'string': return 'VARCHAR';
    case 'int': return 'BIGINT';
    case 'timestamp': return 'TIMESTAMP';
    case 'bool': return 'BOOLEAN';
    case 'strings': return 'VARCHAR[]';
  }
}
