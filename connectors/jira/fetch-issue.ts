/** Fetches the full state of one issue: every comment and changelog entry, remote links, SLA fields, field names. */
import type { JiraClient } from './client.ts';
import { isTransient } from './client.ts';

/** Jira's issue JSON, loosely typed: only the parts we read are named. */
export type JiraIssueJson = Record<string, unknown> & { id: string; key: string; fields: Record<string, unknown> };

/** What `fetchFullIssue` returns for an existing issue. */
export interface FullIssue {
  issue: JiraIssueJson;
  /** True when remote links could not be fetched this time (the last known ones stay). */
  remoteLinksStale: boolean;
}

interface Paged { startAt?: number; maxResults?: number; total?: number }

/** The field catalogue (`GET /rest/api/3/field`): custom field id → name, refreshed when an unknown id shows up. */
export class FieldCatalogue {
  private names = new Map<string, string>();
  private loaded?: Promise<void>;

  constructor(private readonly client: JiraClient) {}

  private async load(): Promise<void> {
    const fields = (await this.client.getJson<Array<{ id: string; name: string }>>('/rest/api/3/field')) ?? [];
    this.names = new Map(fields.map((f) => [f.id, f.name]));
  }

  /** Names of the custom fields of `fields`. */
  async namesOf(fields: Record<string, unknown>): Promise<Record<string, string>> {
    const ids = Object.keys(fields).filter((k) => k.startsWith('customfield_'));
    this.loaded ??= this.load().catch((err: unknown) => { this.loaded = undefined; throw err; });
    await this.loaded;
    if (ids.some((id) => !this.names.has(id))) {
      this.loaded = this.load();
      await this.loaded;
    }
    return Object.fromEntries(ids.flatMap((id) => (this.names.has(id) ? [[id, this.names.get(id)!]] : [])));
  }
}

/** Options of one fetch. */
export interface FetchOptions {
  catalogue?: FieldCatalogue;
  /** Second account and field ids for Jira Service Management SLA fields. */
  sla?: { client: JiraClient; fields: string[] };
}

/** Fetches remote links; `undefined` when the call failed transiently (the caller keeps the last known links). */
export async function fetchRemoteLinks(client: JiraClient, key: string): Promise<unknown[] | undefined> {
  try {
    return (await client.getJson<unknown[]>(`/rest/api/3/issue/${encodeURIComponent(key)}/remotelink`)) ?? [];
  } catch (err) {
    if (isTransient(err)) return undefined;
    throw err;
  }
}

/** Fetches SLA fields with the SLA account and merges them into `issue.fields`. */
export async function mergeSlaFields(issue: JiraIssueJson, sla: NonNullable<FetchOptions['sla']>): Promise<void> {
  if (sla.fields.length === 0 || !sla.client.canCall) return;
  const got = await sla.client.getJson<JiraIssueJson>(`/rest/api/3/issue/${encodeURIComponent(issue.key)}?fields=${sla.fields.map(encodeURIComponent).join(',')}`);
  if (got?.fields) Object.assign(issue.fields, got.fields);
}

/**
 * Fetches an issue with `expand=renderedFields,changelog&fields=*all`, then pages comments and changelog past
 * Jira's 100-entry pages; `undefined` when Jira says the issue does not exist (deleted).
 */
export async function fetchFullIssue(client: JiraClient, key: string, opts: FetchOptions = {}): Promise<FullIssue | undefined> {
  const k = encodeURIComponent(key);
  // Remote links need nothing of the issue: asked for beside it, an issue costs one round trip to Jira, not two.
  const links = fetchRemoteLinks(client, key);
  links.catch(() => undefined);
  let issue: JiraIssueJson | undefined;
  try {
    issue = await client.getJson<JiraIssueJson>(`/rest/api/3/issue/${k}?expand=renderedFields,changelog&fields=*all`);
  } finally {
    if (!issue) await links.catch(() => undefined);
  }
  if (!issue) return undefined;
  const comment = issue.fields.comment as (Paged & { comments?: unknown[] }) | undefined;
  if (comment && (comment.total ?? 0) > (comment.comments?.length ?? 0)) {
    const comments = await client.pageAll(`/rest/api/3/issue/${k}/comment?expand=renderedBody`, 'comments');
    issue.fields.comment = { ...comment, comments, startAt: 0, maxResults: comments.length, total: comments.length };
  }
  const changelog = issue.changelog as (Paged & { histories?: unknown[] }) | undefined;
  if (changelog && (changelog.total ?? 0) > (changelog.histories?.length ?? 0)) {
    const histories = await client.pageAll(`/rest/api/3/issue/${k}/changelog`, 'values');
    issue.changelog = { ...changelog, histories, startAt: 0, maxResults: histories.length, total: histories.length };
  }
  const remoteLinks = await links;
  if (remoteLinks) issue.remoteLinks = remoteLinks;
  if (opts.sla) await mergeSlaFields(issue, opts.sla);
  if (opts.catalogue) issue.names = await opts.catalogue.namesOf(issue.fields);
  return { issue, remoteLinksStale: remoteLinks === undefined };
}
