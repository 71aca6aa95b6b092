/**
 * The fetch reactor: for each verified webhook delivery, fetches the issue's full state from Jira and appends
 * `JiraIssueChanged` (or `JiraIssueDeleted`). It keeps no state of its own: the runner's checkpoint says which
 * deliveries are done, and every append carries an idempotency key, so a crash re-runs a batch harmlessly.
 */
import { createHash } from 'node:crypto';
import { defineReactor } from '../../pipeline/index.ts';
import type { Projection } from '../../pipeline/index.ts';
import { assertNever } from '../../events/index.ts';
import type { BlobStore, JiraIssueChanged, JiraWebhookReceived, NewEvent } from '../../events/index.ts';
import { storeAttachments } from './attachments.ts';
import type { JiraClient } from './client.ts';
import { fetchFullIssue } from './fetch-issue.ts';
import type { FieldCatalogue, FullIssue, JiraIssueJson } from './fetch-issue.ts';
import { IssueStore } from './issue-store.ts';
import { createdMonth } from './rows.ts';

/** Issues fetched at once: Jira Cloud rate-limits per account (429s are retried), eight in flight keep up with bursts. */
const CONCURRENCY = 8;
/** Issue JSON above this size travels as a blob, keeping log records small. */
const INLINE_MAX_BYTES = 256 * 1024;

/** What the reactor and backfill need to turn an issue key into events. */
export interface IssueFetcher {
  client: JiraClient;
  catalogue?: FieldCatalogue;
  sla?: { client: JiraClient; fields: string[] };
  blobs?: BlobStore;
  attachmentMaxBytes: number;
  dataDir: string;
  append(event: NewEvent): Promise<unknown>;
  warn(message: string): void;
}

/** The `JiraIssueChanged` of an issue: attachments stored, big JSON moved to a blob, keyed by its content. */
export async function issueChangedEvent(f: IssueFetcher, full: FullIssue, fetched: 'api' | 'webhook', cause: string): Promise<NewEvent> {
  const { issue } = full;
  const created = String(issue.fields.created ?? '');
  const known = new Map(((await new IssueStore(f.dataDir).get(createdMonth(created), issue.key))?.attachments ?? []).map((a) => [a.id, a]));
  const attachments = fetched === 'api' ? await storeAttachments(f.client, f.blobs, issue, f.attachmentMaxBytes, known) : [...known.values()];
  const json = JSON.stringify(issue);
  const data: JiraIssueChanged['data'] = {
    issueKey: issue.key, issueId: String(issue.id), created, updated: String(issue.fields.updated ?? created),
    fetched, attachments, cause,
    ...(full.remoteLinksStale ? { remoteLinksStale: true } : {}),
  };
  if (Buffer.byteLength(json) > INLINE_MAX_BYTES && f.blobs) {
    const stored = await f.blobs.put(Buffer.from(json));
    data.blob = { sha256: stored.sha256, bytes: stored.bytes, format: 'json' };
  } else {
    data.issue = issue;
  }
  const key = `jira-issue:${createHash('sha256').update(json).update(JSON.stringify(attachments)).digest('hex')}`;
  return { type: 'JiraIssueChanged', v: 1, source: 'jira', key, data };
}

/** The issue a webhook body carries, when it has enough to stand in for a fetch. */
function bodyIssue(body: Record<string, unknown>): JiraIssueJson | undefined {
  const issue = body.issue as JiraIssueJson | undefined;
  return issue?.key && issue.fields && typeof issue.fields.created === 'string' ? issue : undefined;
}

/** Handles the deliveries of one issue (the newest last): one fetch serves them all. */
export async function reactToIssue(f: IssueFetcher, key: string, deliveries: JiraWebhookReceived['data'][]): Promise<void> {
  const newest = deliveries[deliveries.length - 1]!;
  const cause = `webhook:${newest.webhookId}`;
  if (deliveries.some((d) => d.webhookEvent === 'jira:issue_deleted')) {
    await f.append({ type: 'JiraIssueDeleted', v: 1, source: 'jira', key: `jira-deleted:${key}`, data: { issueKey: key, ...(newest.issueId ? { issueId: newest.issueId } : {}), cause } });
    return;
  }
  let full: FullIssue | undefined;
  try {
    full = await fetchFullIssue(f.client, key, { ...(f.catalogue ? { catalogue: f.catalogue } : {}), ...(f.sla ? { sla: f.sla } : {}) });
  } catch (err) {
    const fallback = [...deliveries].reverse().map((d) => bodyIssue(d.body)).find(Boolean);
    if (!fallback) {
      f.warn(`jira: ${key}: cannot fetch (${(err as Error).message}) and the webhook carries no issue`);
      return;
    }
    f.warn(`jira: ${key}: cannot fetch (${(err as Error).message}); using the webhook body`);
    await f.append(await issueChangedEvent(f, { issue: fallback, remoteLinksStale: true }, 'webhook', cause));
    return;
  }
  if (!full) {
    await f.append({ type: 'JiraIssueDeleted', v: 1, source: 'jira', key: `jira-deleted:${key}`, data: { issueKey: key, cause } });
    return;
  }
  await f.append(await issueChangedEvent(f, full, 'api', cause));
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** State of the reactor between folds: deliveries not handled yet. */
export interface FetchReactorState { deliveries: JiraWebhookReceived['data'][] }

/** The reactor over `JiraWebhookReceived`. */
export function jiraFetchReactor(f: IssueFetcher): Projection<FetchReactorState, 'JiraWebhookReceived'> {
  return defineReactor({
    name: 'jira-fetch',
    version: 1,
    handles: ['JiraWebhookReceived'],
    persistState: false,
    // Its effects are keyed appends: after a crash, fetching again the deliveries of the last second appends nothing
    // new, while a saved checkpoint per pass was dozens of fsyncs a second beside the log's writes.
    checkpointEveryMs: 1000,
    initialState: (): FetchReactorState => ({ deliveries: [] }),
    evolve(state, e) {
      switch (e.type) {
        case 'JiraWebhookReceived':
          // In place (the runner owns the state and keeps no old one): a copy per delivery made a batch quadratic.
          state.deliveries.push(e.data);
          return state;
        default:
          return assertNever(e.type);
      }
    },
    async sink(state) {
      const byIssue = new Map<string, JiraWebhookReceived['data'][]>();
      for (const d of state.deliveries) {
        if (!d.issueKey) continue;
        const list = byIssue.get(d.issueKey);
        if (list) list.push(d);
        else byIssue.set(d.issueKey, [d]);
      }
      for (const list of byIssue.values()) list.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
      // An issue's event must be durable before the checkpoint moves, not before the next fetch starts: a fetch slot
      // held through the log's group commit (an fdatasync) capped the fetch rate below a burst's delivery rate.
      const appends: Array<Promise<unknown>> = [];
      const queued: IssueFetcher = {
        ...f,
        append: (event) => {
          const appended = f.append(event);
          appends.push(appended);
          appended.catch(() => undefined);
          return Promise.resolve();
        },
      };
      let failure: { reason: unknown } | undefined;
      await inParallel([...byIssue], CONCURRENCY, ([key, list]) => reactToIssue(queued, key, list)).catch((reason: unknown) => void (failure = { reason }));
      failure ??= (await Promise.allSettled(appends)).find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
      return { deliveries: [] };
    },
  });
}
