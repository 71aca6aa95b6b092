/** The consistency pass: compares Jira's keys and `updated` times with ours, backfills up to N, records a report. */
import type { JiraConsistencyChecked } from '../../events/index.ts';
import { backfill, searchIssues } from './backfill.ts';
import type { IssueFetcher } from './fetch-reactor.ts';
import type { IssueIndexEntry } from './projection.ts';
import { jiraTime } from './rows.ts';

/** Options of one pass. */
export interface ConsistencyOptions { deep: boolean; jql: string; maxBackfill: number; scheduledAt: string }

/** Alert level by how many issues differ: none ok, up to the backfill limit a warning, more critical. */
export function consistencyLevel(differing: number, maxBackfill: number): JiraConsistencyChecked['data']['level'] {
  if (differing === 0) return 'ok';
  return differing <= maxBackfill ? 'warning' : 'critical';
}

/** Runs one pass against `ours` (the projection's index) and appends `JiraConsistencyChecked`. */
export async function checkConsistency(f: IssueFetcher, ours: Readonly<Record<string, IssueIndexEntry>>, opts: ConsistencyOptions): Promise<JiraConsistencyChecked['data']> {
  let data: JiraConsistencyChecked['data'];
  try {
    const theirs = await searchIssues(f, opts.jql);
    const missing: string[] = [];
    const stale: string[] = [];
    for (const issue of theirs) {
      const mine = ours[issue.key];
      if (!mine || mine.deleted) missing.push(issue.key);
      else if ((jiraTime(issue.updated) ?? 0) > mine.updated) stale.push(issue.key);
    }
    const todo = [...missing, ...stale].slice(0, opts.maxBackfill);
    const run = todo.length
      ? await backfill(f, { keys: todo, parallel: 4, part: 'all', existing: new Map(), skipExisting: false, dryRun: false, cause: `consistency:${opts.scheduledAt}` })
      : { failed: [] as Array<{ key: string }> };
    const failed = new Set(run.failed.map((x) => x.key));
    data = {
      deep: opts.deep, jql: opts.jql, checked: theirs.length, missing, stale,
      backfilled: todo.filter((k) => !failed.has(k)),
      level: consistencyLevel(missing.length + stale.length, opts.maxBackfill),
    };
  } catch (err) {
    const e = err as { code?: string; message: string };
    data = { deep: opts.deep, jql: opts.jql, checked: 0, missing: [], stale: [], backfilled: [], level: 'critical', error: { code: e.code ?? 'JIRA_HTTP', message: e.message } };
  }
  await f.append({ type: 'JiraConsistencyChecked', v: 1, source: 'timer', key: `jira-consistency:${opts.deep ? 'deep' : 'recent'}:${opts.scheduledAt}`, data });
  return data;
}
