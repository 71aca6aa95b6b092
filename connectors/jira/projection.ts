/**
 * The Jira projection: folds `JiraIssueChanged`/`JiraIssueDeleted` into one index entry per issue (newest
 * `updated` wins, deletion is final), then its sink rewrites each touched created-month of the six tables as
 * Parquet and announces every touched table with `TablePublished`.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { defineReactor } from '../../pipeline/index.ts';
import type { HandledEvent, Projection, SinkContext } from '../../pipeline/index.ts';
import { assertNever, fsyncDir } from '../../events/index.ts';
import type { BlobStore, JiraAttachmentRef, JiraIssueChanged, NewEvent, PublishedFile, SetFile } from '../../events/index.ts';
import { safeAttachmentName } from './attachments.ts';
import { IssueStore, keyFileName } from './issue-store.ts';
import { ATTACHMENTS_DATASET, JIRA_FOLDER } from './declared-tables.ts';
import { MonthEncoder } from './month-encoder.ts';
import { publishFile } from './parquet-month.ts';
import { createdMonth, issueRows, jiraTime } from './rows.ts';
import { duckdbType, JIRA_TABLE_NAMES, JIRA_TABLES } from './tables.ts';
import type { IssueRows, JiraTable } from './tables.ts';

export { ATTACHMENTS_DATASET, JIRA_FOLDER } from './declared-tables.ts';

/** What the projection knows of one issue. */
export interface IssueIndexEntry { updated: number; month: string; fetched: 'api' | 'webhook'; deleted?: true }

/** A change waiting for the sink. */
type PendingChange =
  | { kind: 'changed'; position: number; data: JiraIssueChanged['data'] }
  | { kind: 'deleted'; position: number; key: string };

/** State: the issue index, the published month files per table, and changes the sink has not written yet. */
export interface JiraProjectionState {
  issues: Record<string, IssueIndexEntry>;
  files: Record<string, Record<string, { rows: number; bytes: number; sha256: string }>>;
  pending: PendingChange[];
}

/** Where the Jira files of a data directory are. */
export function jiraPaths(dataDir: string): { parquet: string; attachments: string; store: IssueStore } {
  return { parquet: path.join(dataDir, 'parquet', JIRA_FOLDER), attachments: path.join(dataDir, 'attachments', JIRA_FOLDER), store: new IssueStore(dataDir) };
}

/** The event types the Jira projection folds. */
export const JIRA_PROJECTION_EVENTS = ['JiraIssueChanged', 'JiraIssueDeleted'] as const;

/** An event the Jira projection folds. */
export type JiraProjectionEvent = HandledEvent<(typeof JIRA_PROJECTION_EVENTS)[number]>;

/**
 * The fold. It updates the state in place (the runner owns it and never keeps an old one), which keeps each
 * event O(1) for instances with hundreds of thousands of issues; it does no I/O.
 */
export function evolveJira(state: JiraProjectionState, e: JiraProjectionEvent): JiraProjectionState {
  switch (e.type) {
    case 'JiraIssueChanged': {
      const d = e.data;
      const prev = state.issues[d.issueKey];
      const updated = jiraTime(d.updated) ?? 0;
      if (prev?.deleted) return state;
      // An older version never overwrites a newer one; at the same `updated`, a fetched issue beats a webhook body.
      if (prev && (updated < prev.updated || (updated === prev.updated && d.fetched === 'webhook' && prev.fetched === 'api'))) return state;
      state.issues[d.issueKey] = { updated, month: prev?.month ?? createdMonth(d.created), fetched: d.fetched };
      state.pending.push({ kind: 'changed', position: e.position, data: d });
      return state;
    }
    case 'JiraIssueDeleted': {
      const prev = state.issues[e.data.issueKey];
      if (prev?.deleted) return state;
      state.issues[e.data.issueKey] = { updated: prev?.updated ?? 0, month: prev?.month ?? '', fetched: prev?.fetched ?? 'api', deleted: true };
      if (prev) state.pending.push({ kind: 'deleted', position: e.position, key: e.data.issueKey });
      return state;
    }
    default:
      return assertNever(e);
  }
}

/** What the projection needs besides the data directory. */
export interface JiraProjectionDeps {
  blobs?: BlobStore;
  append(event: NewEvent): Promise<unknown>;
  /** Told once when months can no longer be encoded in the worker thread (they are then encoded on this one). */
  warn?(message: string): void;
}

/** Folder of an issue's attachment files, relative to the data directory (and to the analyst's `server/`). */
function attachmentFolder(key: string): string {
  return path.posix.join('attachments', JIRA_FOLDER, keyFileName(key));
}

/** Path of an attachment's file relative to the data directory. */
function attachmentRel(key: string, a: JiraAttachmentRef): string {
  return path.posix.join(attachmentFolder(key), safeAttachmentName(a.id, a.filename));
}

/** The downloaded files of an issue's attachments, as a `FilesPublished` lists them (sorted by path). */
function attachmentFiles(key: string, attachments: readonly JiraAttachmentRef[] | undefined): SetFile[] {
  return (attachments ?? []).flatMap((a) => (a.blob ? [{ path: attachmentRel(key, a), bytes: a.blob.bytes, sha256: a.blob.sha256 }] : [])).sort((x, y) => x.path.localeCompare(y.path));
}

function sameFiles(a: readonly SetFile[], b: readonly SetFile[]): boolean {
  return a.length === b.length && a.every((f, i) => f.path === b[i]!.path && f.sha256 === b[i]!.sha256);
}

async function linkAttachments(dataDir: string, blobs: BlobStore | undefined, key: string, attachments: JiraAttachmentRef[]): Promise<void> {
  if (!blobs) return;
  for (const a of attachments) {
    if (!a.blob) continue;
    const target = path.join(dataDir, attachmentRel(key, a));
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await rm(target, { force: true });
    await link(await blobs.verifiedPath(a.blob.sha256), target);
  }
}

/**
 * Files written at once. Each is fsynced before its rename; one at a time, a pass over 24 months waited for ~150
 * fsyncs in a row. A few in flight let the file system commit them together, and leave threads of libuv's pool
 * (4 by default) to the log, whose appends (and so the webhook answers) wait on the same pool.
 */
const WRITE_CONCURRENCY = 3;

/**
 * Issues handled between two turns of the event loop. A pass over 24 touched months (rows of each changed issue,
 * a blob's JSON parsed, each month's rows cloned to the encoding thread) ran as one chain of microtasks, tens of
 * milliseconds during which no webhook was answered; it now lets the loop run between months and every few issues.
 */
const ISSUES_PER_TURN = 16;

/** Resolves on the next turn of the event loop, after I/O callbacks due meanwhile. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs tasks with at most `limit` in flight; `done()` waits for all and throws the first failure. */
function writeQueue(limit: number): { add(task: () => Promise<void>): void; done(): Promise<void> } {
  let active = 0;
  const waiting: Array<() => void> = [];
  const all: Array<Promise<void>> = [];
  return {
    add(task) {
      all.push((async () => {
        if (active >= limit) await new Promise<void>((r) => waiting.push(r));
        active++;
        try {
          await task();
        } finally {
          active--;
          waiting.shift()?.();
        }
      })());
    },
    async done() {
      const failed = (await Promise.allSettled(all)).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

/** One encoding thread for the process: passes of several projections (tests) queue on it. */
const encoder = new MonthEncoder();
let warnedInline = false;

/**
 * Data directories whose month files hold exactly the rows of the issue store, as a pass of this process that
 * succeeded left them. There, a table of a month whose rows no change of the pass altered is not encoded again
 * (most updates move an issue's status or time, not its comments or links). Elsewhere (the first pass after a
 * start, which may follow a crash between a store append and a file's rename, or after a failed pass) every table
 * of a touched month is encoded, and only checksums tell what changed.
 */
const consistentDirs = new Set<string>();

/** Whether any row of `table` differs between two versions of an issue. */
function rowsDiffer(before: IssueRows | undefined, after: IssueRows | undefined, table: JiraTable): boolean {
  const a = before?.[table] ?? [];
  const b = after?.[table] ?? [];
  return a.length !== b.length || (a.length > 0 && JSON.stringify(a) !== JSON.stringify(b));
}

/** Applies pending changes month by month (one store append per month), rewrites those months' files, and announces the changed tables. */
async function applyAndPublish(state: JiraProjectionState, ctx: SinkContext, deps: JiraProjectionDeps): Promise<void> {
  const consistent = consistentDirs.has(ctx.dataDir) && !ctx.rebuilding;
  consistentDirs.delete(ctx.dataDir);
  const { store, parquet } = jiraPaths(ctx.dataDir);
  // Only the last pending change of an issue matters (the fold already dropped older versions).
  const last = new Map<string, PendingChange>();
  for (const p of state.pending) last.set(p.kind === 'changed' ? p.data.issueKey : p.key, p);
  const byMonth = new Map<string, Array<[string, PendingChange]>>();
  for (const [key, p] of last) {
    const month = state.issues[key]!.month;
    const list = byMonth.get(month);
    if (list) list.push([key, p]);
    else byMonth.set(month, [[key, p]]);
  }
  const changed = new Map<JiraTable, string[]>();
  const touch = (table: JiraTable, month: string): void => void changed.set(table, [...(changed.get(table) ?? []), month]);
  const writes = writeQueue(WRITE_CONCURRENCY);
  // Months are encoded by the worker while this thread goes on with the next month (and with webhook answers).
  const encodes: Array<Promise<void>> = [];
  for (const month of [...byMonth.keys()].sort()) {
    await nextTurn();
    const issues = await store.load(month);
    let handled = 0;
    const stored: string[] = [];
    const dirty = new Set<JiraTable>();
    // Issues whose attachment files changed (by the store, which holds what was announced last); a pass after a
    // start or a failure announces every touched issue that has or had files.
    const attachmentSets = new Map<string, SetFile[]>();
    const noteFiles = (key: string, before: readonly JiraAttachmentRef[] | undefined, after: readonly JiraAttachmentRef[] | undefined): void => {
      const was = attachmentFiles(key, before);
      const now = deps.blobs ? attachmentFiles(key, after) : [];
      if (!sameFiles(was, now) || (!consistent && (was.length > 0 || now.length > 0))) attachmentSets.set(key, now);
    };
    const compare = (before: IssueRows | undefined, after: IssueRows | undefined): void => {
      for (const table of JIRA_TABLE_NAMES) if (!dirty.has(table) && rowsDiffer(before, after, table)) dirty.add(table);
    };
    for (const [key, p] of byMonth.get(month)!) {
      if (++handled % ISSUES_PER_TURN === 0) await nextTurn();
      if (p.kind === 'deleted' || state.issues[key]!.deleted) {
        compare(issues.get(key)?.rows, undefined);
        noteFiles(key, issues.get(key)?.attachments, undefined);
        if (issues.delete(key)) stored.push(key);
        await rm(path.join(ctx.dataDir, 'attachments', JIRA_FOLDER, keyFileName(key)), { recursive: true, force: true });
        continue;
      }
      const d = p.data;
      const issue = d.issue ?? (d.blob && deps.blobs ? JSON.parse((await deps.blobs.read(d.blob.sha256)).toString('utf8')) as Record<string, unknown> : undefined);
      if (!issue) continue;
      const rows = issueRows(issue, d.attachments, d.fetched, (a) => (a.blob && deps.blobs ? attachmentRel(key, a) : null));
      if (d.remoteLinksStale) rows.remote_links = issues.get(key)?.rows.remote_links ?? [];
      await linkAttachments(ctx.dataDir, deps.blobs, key, d.attachments);
      compare(issues.get(key)?.rows, rows);
      noteFiles(key, issues.get(key)?.attachments, d.attachments);
      issues.set(key, { key, updated: state.issues[key]!.updated, rows, attachments: d.attachments, issue, fetched: d.fetched });
      stored.push(key);
    }
    // Announced before the store records the new attachments: a crash in between announces them again (the blobs
    // the files are served from exist already; the fetch reactor stored them before its event).
    for (const [key, files] of attachmentSets) {
      await deps.append({
        type: 'FilesPublished', v: 1, source: 'jira', key: `jira-files:${keyFileName(key)}:${ctx.position}`,
        data: { dataset: ATTACHMENTS_DATASET, folder: attachmentFolder(key), files },
      });
    }
    writes.add(() => store.save(month, issues, stored));
    const tables = JIRA_TABLE_NAMES.filter((table) => !consistent || dirty.has(table));
    if (tables.length === 0) continue;
    const whole = (): Array<[string, IssueRows]> => [...issues].map(([key, i]) => [key, i.rows]);
    // The thread keeps each month's rows and gets the changed issues' only; a pass that may follow a failed or
    // crashed one sends every issue of the month.
    const monthChanges = { month: `${ctx.dataDir}\0${month}`, tables, reset: !consistent, changes: consistent ? stored.map((key): [string, IssueRows | null] => [key, issues.get(key)?.rows ?? null]) : whole() };
    encodes.push(encoder.month(monthChanges, whole).then((encodedTables) => {
      for (const { table, data, ...written } of encodedTables) {
        const file = path.join(parquet, table, `${month}.parquet`);
        const files = (state.files[table] ??= {});
        if (!data) {
          if (!files[month]) continue;
          // The state changes only once the file did: a failed pass is retried with the files as they are.
          writes.add(async () => {
            await rm(file, { force: true });
            delete files[month];
          });
          touch(table, month);
          continue;
        }
        // Unchanged bytes (say, comments when only a status moved) are neither written again nor announced.
        if (files[month]?.sha256 === written.sha256) continue;
        writes.add(async () => {
          await publishFile(file, data, { syncDir: false });
          files[month] = written;
        });
        touch(table, month);
      }
    }));
  }
  const encoded = await Promise.allSettled(encodes);
  await writes.done();
  const failed = encoded.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  // One fsync per table folder makes every rename above durable before the checkpoint moves.
  for (const table of changed.keys()) await fsyncDir(path.join(parquet, table));
  for (const [table, touched] of changed) {
    const entries = Object.entries(state.files[table] ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const files: PublishedFile[] = entries.map(([month, f]) => ({ path: `parquet/${JIRA_FOLDER}/${table}/${month}.parquet`, rows: f.rows, bytes: f.bytes, sha256: f.sha256, partition: month }));
    await deps.append({
      type: 'TablePublished', v: 1, source: 'jira', key: `jira-published:${table}:${ctx.position}`,
      data: {
        runId: `jira-${ctx.position}`, table, folder: JIRA_FOLDER, strategy: 'partitioned', dataset: JIRA_FOLDER,
        files, rows: files.reduce((n, f) => n + f.rows, 0), bytes: files.reduce((n, f) => n + f.bytes, 0),
        schema: JIRA_TABLES[table].map((c) => ({ name: c.name, type: duckdbType(c.kind), ...('description' in c ? { description: c.description } : {}) })),
        contentHash: createHash('sha256').update(files.map((f) => f.sha256).join('\n')).digest('hex'),
        touchedPartitions: touched.sort(),
      },
    });
  }
  consistentDirs.add(ctx.dataDir);
}

/** The projection over `JiraIssueChanged` and `JiraIssueDeleted`. */
export function jiraProjection(deps: JiraProjectionDeps): Projection<JiraProjectionState, JiraProjectionEvent['type']> {
  return defineReactor({
    name: 'jira',
    version: 1,
    handles: JIRA_PROJECTION_EVENTS,
    initialState: (): JiraProjectionState => ({ issues: {}, files: {}, pending: [] }),
    evolve: evolveJira,
    async sink(state, ctx) {
      if (state.pending.length === 0) return state;
      await applyAndPublish(state, ctx, deps);
      state.pending = [];
      if (!encoder.threaded && !warnedInline) {
        warnedInline = true;
        deps.warn?.(`jira: months are encoded on the main thread, webhook answers wait for them (the encoding thread stopped: ${encoder.failure})`);
      }
      return state;
    },
    async reset({ dataDir }) {
      consistentDirs.delete(dataDir);
      encoder.forget(`${dataDir}\0`);
      const p = jiraPaths(dataDir);
      for (const dir of [p.parquet, p.attachments]) await rm(dir, { recursive: true, force: true });
      await p.store.clear();
    },
  });
}
