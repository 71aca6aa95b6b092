/** Backfill: find issues by JQL or key, fetch each in full and append it; or refresh only remote links or SLA fields. */
import type { JiraIssueChanged } from '../../events/index.ts';
import { fetchFullIssue, fetchRemoteLinks, mergeSlaFields } from './fetch-issue.ts';
import type { JiraIssueJson } from './fetch-issue.ts';
import { inParallel, issueChangedEvent } from './fetch-reactor.ts';
import type { IssueFetcher } from './fetch-reactor.ts';
import { IssueStore } from './issue-store.ts';

/** Issues per search page (Jira's cap for `search/jql` with few fields). */
const SEARCH_PAGE = 100;

/** An issue as the search returns it: key and `updated` time. */
export interface FoundIssue { key: string; updated: string }

/** Every issue matching `jql`, through `POST /rest/api/3/search/jql` and `nextPageToken`. */
export async function searchIssues(f: Pick<IssueFetcher, 'client'>, jql: string, onPage?: (found: number) => void): Promise<FoundIssue[]> {
  const found: FoundIssue[] = [];
  let nextPageToken: string | undefined;
  do {
    const page = await f.client.postJson<{ issues?: Array<{ key: string; fields?: { updated?: string } }>; nextPageToken?: string; isLast?: boolean }>(
      '/rest/api/3/search/jql',
      { jql, fields: ['updated'], maxResults: SEARCH_PAGE, ...(nextPageToken ? { nextPageToken } : {}) },
    );
    for (const i of page.issues ?? []) found.push({ key: i.key, updated: i.fields?.updated ?? '' });
    onPage?.(found.length);
    nextPageToken = page.isLast === false || (page.isLast === undefined && page.nextPageToken) ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return found;
}

/** Which part of an issue a run refreshes. */
export type BackfillPart = 'all' | 'remote-links' | 'sla';

/** Options of one backfill run. */
export interface BackfillOptions {
  keys: string[];
  parallel: number;
  part: BackfillPart;
  /** Where existing issues are: key → created month (from the projection's index). */
  existing: ReadonlyMap<string, string>;
  skipExisting: boolean;
  dryRun: boolean;
  cause: string;
  onProgress?: (p: { done: number; total: number; key: string; outcome: 'fetched' | 'deleted' | 'unchanged' | 'skipped' | 'failed' }) => void;
}

/** What a run did. */
export interface BackfillResult { total: number; fetched: number; deleted: number; skipped: number; failed: Array<{ key: string; error: string }> }

/** Refreshes remote links or SLA fields of a stored issue; the event, or undefined when nothing is stored. */
async function refreshPart(f: IssueFetcher, key: string, month: string, part: 'remote-links' | 'sla', cause: string): Promise<JiraIssueChanged['data'] | 'missing' | undefined> {
  const stored = await new IssueStore(f.dataDir).get(month, key);
  if (!stored) return 'missing';
  const issue = structuredClone(stored.issue) as JiraIssueJson;
  if (part === 'remote-links') {
    const links = await fetchRemoteLinks(f.client, key);
    if (!links) throw new Error('remote links could not be fetched (Jira busy or unreachable); the last known links stay');
    issue.remoteLinks = links;
  } else if (f.sla) {
    await mergeSlaFields(issue, f.sla);
  }
  const event = await issueChangedEvent(f, { issue, remoteLinksStale: false }, stored.fetched, cause);
  await f.append(event);
  return undefined;
}

/** Runs a backfill over `opts.keys`. */
export async function backfill(f: IssueFetcher, opts: BackfillOptions): Promise<BackfillResult> {
  const result: BackfillResult = { total: opts.keys.length, fetched: 0, deleted: 0, skipped: 0, failed: [] };
  let done = 0;
  const report = (key: string, outcome: Parameters<NonNullable<BackfillOptions['onProgress']>>[0]['outcome']): void => opts.onProgress?.({ done: ++done, total: result.total, key, outcome });
  await inParallel(opts.keys, Math.max(1, opts.parallel), async (key) => {
    const month = opts.existing.get(key);
    if ((opts.skipExisting && month !== undefined && opts.part === 'all') || (opts.part !== 'all' && month === undefined) || opts.dryRun) {
      result.skipped++;
      return report(key, 'skipped');
    }
    try {
      if (opts.part !== 'all') {
        const r = await refreshPart(f, key, month!, opts.part, opts.cause);
        if (r === 'missing') { result.skipped++; return report(key, 'skipped'); }
        result.fetched++;
        return report(key, 'fetched');
      }
      const full = await fetchFullIssue(f.client, key, { ...(f.catalogue ? { catalogue: f.catalogue } : {}), ...(f.sla ? { sla: f.sla } : {}) });
      if (!full) {
        await f.append({ type: 'JiraIssueDeleted', v: 1, source: 'jira', key: `jira-deleted:${key}`, data: { issueKey: key, cause: opts.cause } });
        result.deleted++;
        return report(key, 'deleted');
      }
      await f.append(await issueChangedEvent(f, full, 'api', opts.cause));
      result.fetched++;
      report(key, 'fetched');
    } catch (err) {
      result.failed.push({ key, error: (err as Error).message });
      report(key, 'failed');
    }
  });
  return result;
}
