/** An issue's JSON turned into rows of the six Jira tables (pure). */
import type { JiraAttachmentRef } from '../../events/index.ts';
import { adfToText } from './adf.ts';
import type { IssueRows, Row } from './tables.ts';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x) => x !== null && typeof x === 'object') as Json[] : []);
const str = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : typeof v === 'object' ? JSON.stringify(v) : String(v));
const name = (v: unknown): string | null => str(obj(v).name ?? obj(v).value ?? null);
/** A key of a JSON object, never an inherited property (a changelog item's `toString`). */
const own = (o: Json, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : null);
const user = (v: unknown): string | null => str(obj(v).displayName ?? obj(v).emailAddress ?? null);
const userId = (v: unknown): string | null => str(obj(v).accountId ?? null);

/** Epoch milliseconds of a Jira time (`2024-01-15T10:30:00.000+0000`), or null. */
export function jiraTime(v: unknown): number | null {
  if (typeof v !== 'string' || v === '') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** The partition of an issue: its created month as `YYYY_MM` (UTC). */
export function createdMonth(created: string): string {
  const t = jiraTime(created);
  const d = new Date(t ?? 0);
  return `${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

interface SlaCycle { breached?: boolean; goalDuration?: { millis?: number }; elapsedTime?: { millis?: number }; remainingTime?: { millis?: number } }

/** SLA figures of the first Jira Service Management SLA field of the issue (ongoing cycle, else the last completed one). */
function slaOf(fields: Json): Pick<Row, 'sla_breached' | 'sla_goal_ms' | 'sla_elapsed_ms' | 'sla_remaining_ms'> {
  for (const value of Object.values(fields)) {
    const v = obj(value);
    if (!('ongoingCycle' in v) && !('completedCycles' in v)) continue;
    const completed = list(v.completedCycles) as SlaCycle[];
    const cycle = (v.ongoingCycle as SlaCycle | undefined) ?? completed[completed.length - 1];
    const breached = Boolean(cycle?.breached) || completed.some((c) => c.breached);
    return {
      sla_breached: cycle ? breached : null,
      sla_goal_ms: cycle?.goalDuration?.millis ?? null,
      sla_elapsed_ms: cycle?.elapsedTime?.millis ?? null,
      sla_remaining_ms: cycle?.remainingTime?.millis ?? null,
    };
  }
  return { sla_breached: null, sla_goal_ms: null, sla_elapsed_ms: null, sla_remaining_ms: null };
}

/** Non-empty custom fields as JSON keyed by their catalogue names (ids when the name is unknown). */
function customFields(fields: Json, names: Json): string | null {
  const out: Json = {};
  for (const [id, value] of Object.entries(fields)) {
    if (!id.startsWith('customfield_') || value === null || value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    const label = typeof names[id] === 'string' ? names[id] as string : id;
    out[label] = value !== null && typeof value === 'object' && (value as Json).type === 'doc' ? adfToText(value) : value;
  }
  return Object.keys(out).length ? JSON.stringify(out) : null;
}

/** The rows of every Jira table for one issue. */
export function issueRows(issue: Json, attachments: readonly JiraAttachmentRef[], fetched: string, attachmentPath: (a: JiraAttachmentRef) => string | null): IssueRows {
  const fields = obj(issue.fields);
  const key = String(issue.key);
  const status = obj(fields.status);
  const issues: Row[] = [{
    issue_key: key,
    issue_id: str(issue.id),
    project_key: str(obj(fields.project).key),
    summary: str(fields.summary),
    status: name(status),
    status_category: name(status.statusCategory),
    issue_type: name(fields.issuetype),
    priority: name(fields.priority),
    resolution: name(fields.resolution),
    assignee: user(fields.assignee), assignee_id: userId(fields.assignee),
    reporter: user(fields.reporter), reporter_id: userId(fields.reporter),
    parent_key: str(obj(fields.parent).key),
    created: jiraTime(fields.created), updated: jiraTime(fields.updated), resolved: jiraTime(fields.resolutiondate),
    due_date: str(fields.duedate),
    labels: Array.isArray(fields.labels) ? fields.labels.map(String) : [],
    components: list(fields.components).map((c) => String(c.name ?? '')),
    fix_versions: list(fields.fixVersions).map((c) => String(c.name ?? '')),
    description: adfToText(fields.description),
    custom_fields: customFields(fields, obj(issue.names)),
    ...slaOf(fields),
    fetched,
  }];
  const comments: Row[] = list(obj(fields.comment).comments).map((c) => ({
    issue_key: key, comment_id: str(c.id), author: user(c.author), author_id: userId(c.author),
    created: jiraTime(c.created), updated: jiraTime(c.updated), body: adfToText(c.body),
  }));
  const byId = new Map(attachments.map((a) => [a.id, a]));
  const attachmentRows: Row[] = list(fields.attachment).map((a) => {
    const ref = byId.get(String(a.id));
    return {
      issue_key: key, attachment_id: str(a.id), filename: str(a.filename), size: typeof a.size === 'number' ? a.size : null,
      mime_type: str(a.mimeType), author: user(a.author), created: jiraTime(a.created),
      blob_sha256: ref?.blob?.sha256 ?? null, local_path: ref ? attachmentPath(ref) : null, skipped: ref?.skipped ?? null,
    };
  });
  const changelog: Row[] = list(obj(issue.changelog).histories).flatMap((h) => list(h.items).map((item) => ({
    issue_key: key, history_id: str(h.id), author: user(h.author), author_id: userId(h.author), created: jiraTime(h.created),
    field: str(item.field), field_type: str(item.fieldtype),
    from_value: str(own(item, 'from')), from_string: str(own(item, 'fromString')), to_value: str(own(item, 'to')), to_string: str(own(item, 'toString')),
  })));
  const issuelinks: Row[] = list(fields.issuelinks).map((l) => {
    const type = obj(l.type);
    const outward = l.outwardIssue !== undefined;
    return {
      issue_key: key, link_id: str(l.id), link_type: str(type.name), direction: outward ? 'outward' : 'inward',
      linked_issue_key: str(obj(outward ? l.outwardIssue : l.inwardIssue).key), relation: str(outward ? type.outward : type.inward),
    };
  });
  const remote_links: Row[] = list(issue.remoteLinks).map((r) => {
    const o = obj(r.object);
    return {
      issue_key: key, remote_link_id: str(r.id), global_id: str(r.globalId), url: str(o.url), title: str(o.title),
      relationship: str(r.relationship), application: str(obj(r.application).name ?? obj(r.application).type),
    };
  });
  return { issues, comments, attachments: attachmentRows, changelog, issuelinks, remote_links };
}
