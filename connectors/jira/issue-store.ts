/**
 * The Jira projection's own store: the rows and raw JSON of each issue, by created month. A month is a snapshot
 * (`<YYYY_MM>.json`) plus a journal of the issues changed since (`<YYYY_MM>.journal`), so a pass writes what
 * changed, not every issue of each month it touched.
 */
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { fsyncDir } from '../../events/index.ts';
import type { JiraAttachmentRef } from '../../events/index.ts';
import type { IssueRows } from './tables.ts';

/** What is kept of an issue: its rows and its attachments (so files are not downloaded again). */
export interface StoredIssue {
  key: string;
  updated: number;
  rows: IssueRows;
  attachments: JiraAttachmentRef[];
  /** Jira's issue JSON as last fetched (the original kept it per issue too); refreshes of parts start from it. */
  issue: Record<string, unknown>;
  fetched: 'api' | 'webhook';
}

/** The issues of one month by key. */
export type MonthIssues = Map<string, StoredIssue>;

/** An issue key as a path segment: Jira keys are `PROJ-123`; anything else is escaped. */
export function keyFileName(key: string): string {
  return /^[A-Za-z][A-Za-z0-9_]*-\d+$/.test(key) ? key : `_${Buffer.from(key).toString('hex').slice(0, 200)}`;
}

/**
 * Bytes of month files kept parsed in memory (their objects take a few times that). The fetch reactor looks up
 * one issue's attachments per delivery and the projection rewrites every touched month per pass: parsing the
 * month again each time was most of the Jira benchmark's CPU.
 */
const CACHE_MAX_BYTES = 64 * 1024 * 1024;
/**
 * A journal is folded into a new snapshot once it is bigger than the snapshot and than this: the bytes written
 * stay within about twice the changes, and a load never reads more than about twice the month.
 */
const JOURNAL_MIN_BYTES = 256 * 1024;

/**
 * Issues serialised between two turns of the event loop: a month of a few thousand issues stringified at once held
 * the loop (and webhook answers) for tens of milliseconds.
 */
const ISSUES_PER_TURN = 32;

/** Resolves on the next turn of the event loop, after I/O callbacks due meanwhile. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `json` of each item (`JSON.stringify` by default), a turn of the event loop every ISSUES_PER_TURN items. */
async function stringifyEach<T>(items: Iterable<T>, json: (item: T) => string = (item) => JSON.stringify(item)): Promise<string[]> {
  const out: string[] = [];
  for (const item of items) {
    if (out.length > 0 && out.length % ISSUES_PER_TURN === 0) await nextTurn();
    out.push(json(item));
  }
  return out;
}

/**
 * One journal line: the issue as it is now, or `null` once it left the month. `seq` grows by one per line of a
 * month; a snapshot records the last `seq` it holds, so lines it already holds are skipped (a crash between
 * writing a snapshot and removing the journal leaves both).
 */
interface JournalLine { seq: number; key: string; issue: StoredIssue | null }

/** A snapshot file: the issues of the month up to journal line `seq` (a bare array, from before journals, is seq 0). */
interface Snapshot { seq: number; issues: StoredIssue[] }

/** Identity of a file's content as far as `stat` tells: changed by any write of any process. */
type Signature = string;

interface CachedMonth {
  /**
   * Written by this process: only the process holding the event log's writer lock runs the projection, so no
   * other process changes the month while it lives, and it is used without a `stat` of its files.
   */
  trusted: boolean;
  sig: Signature;
  issues: MonthIssues;
  seq: number;
  snapshotBytes: number;
  journalBytes: number;
}

/** Parsed months by snapshot path, least recently used first; an entry is used only while both files' signatures match. */
const cache = new Map<string, CachedMonth>();
let cachedBytes = 0;

function cacheSet(file: string, entry: CachedMonth): void {
  cacheDelete(file);
  cache.set(file, entry);
  cachedBytes += entry.snapshotBytes + entry.journalBytes;
  for (const [k] of cache) {
    if (cachedBytes <= CACHE_MAX_BYTES || k === file) break;
    cacheDelete(k);
  }
}

function cacheDelete(file: string): void {
  const old = cache.get(file);
  if (!old) return;
  cache.delete(file);
  cachedBytes -= old.snapshotBytes + old.journalBytes;
}

async function statOf(file: string): Promise<{ sig: string; size: number } | undefined> {
  try {
    const st = await stat(file);
    return { sig: `${st.ino}:${st.size}:${st.mtimeMs}`, size: st.size };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Month files under `<data>/metadata/jira/issues/`: a snapshot and a journal per created month. */
export class IssueStore {
  readonly root: string;
  /** Set once this instance created the folder (a `mkdir` per save was a syscall per month per pass). */
  private rootMade = false;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'metadata', 'jira', 'issues');
  }

  private snapshotFile(month: string): string {
    return path.join(this.root, `${month}.json`);
  }

  private journalFile(month: string): string {
    return path.join(this.root, `${month}.journal`);
  }

  private async signature(month: string): Promise<{ sig: Signature; snapshotBytes: number; journalBytes: number }> {
    const [snap, journal] = await Promise.all([statOf(this.snapshotFile(month)), statOf(this.journalFile(month))]);
    return { sig: `${snap?.sig ?? '-'}|${journal?.sig ?? '-'}`, snapshotBytes: snap?.size ?? 0, journalBytes: journal?.size ?? 0 };
  }

  /** Every issue of a month (a new map; the stored issues in it are shared and must not be modified). */
  async load(month: string): Promise<MonthIssues> {
    return new Map((await this.month(month)).issues);
  }

  private async month(month: string): Promise<CachedMonth> {
    const file = this.snapshotFile(month);
    const hit = cache.get(file);
    if (hit?.trusted) {
      cacheSet(file, hit);
      return hit;
    }
    const before = await this.signature(month);
    if (hit && hit.sig === before.sig) {
      cacheSet(file, hit);
      return hit;
    }
    const [snapText, journalText] = await Promise.all([readIfThere(file), readIfThere(this.journalFile(month))]);
    const parsed = snapText === undefined ? { seq: 0, issues: [] } : JSON.parse(snapText) as Snapshot | StoredIssue[];
    const snapshot: Snapshot = Array.isArray(parsed) ? { seq: 0, issues: parsed } : parsed;
    const issues: MonthIssues = new Map(snapshot.issues.map((i) => [i.key, i]));
    let seq = snapshot.seq;
    for (const text of (journalText ?? '').split('\n')) {
      if (!text) continue;
      let line: JournalLine;
      try {
        line = JSON.parse(text) as JournalLine;
      } catch {
        // The torn tail of an append a crash cut off: its pass was not checkpointed and runs again.
        continue;
      }
      if (line.seq <= seq) continue;
      seq = line.seq;
      if (line.issue) issues.set(line.key, line.issue);
      else issues.delete(line.key);
    }
    const entry: CachedMonth = { ...before, trusted: false, issues, seq };
    // Cached only when neither file changed while they were read.
    const after = await this.signature(month);
    if (after.sig === before.sig && after.snapshotBytes === Buffer.byteLength(snapText ?? '') && after.journalBytes === Buffer.byteLength(journalText ?? '')) cacheSet(file, entry);
    return entry;
  }

  /**
   * Records `issues` as the month's content, durably: the issues of `changed` (keys set or removed since `load`)
   * are appended to the journal, or the whole month becomes a new snapshot when the journal has grown past it.
   */
  async save(month: string, issues: MonthIssues, changed: Iterable<string>): Promise<void> {
    const file = this.snapshotFile(month);
    const current = await this.month(month);
    let seq = current.seq;
    const lines = await stringifyEach(new Set(changed), (key) => JSON.stringify({ seq: ++seq, key, issue: issues.get(key) ?? null } satisfies JournalLine));
    if (lines.length === 0) return;
    // The month as it was stays in the cache while this runs (the fetch reactor looks issues up in it meanwhile: a
    // month dropped for the length of an fsync was parsed again from disk by each lookup). Should the write fail,
    // the files may hold part of it, so the month is then read from disk again.
    try {
      await this.write(month, issues, current, lines, seq);
    } catch (err) {
      cacheDelete(file);
      throw err;
    }
  }

  /** Appends `lines` to the month's journal, or compacts it into a new snapshot, then caches the month as written. */
  private async write(month: string, issues: MonthIssues, current: CachedMonth, lines: string[], seq: number): Promise<void> {
    if (!this.rootMade) {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      this.rootMade = true;
    }
    // A leading newline keeps a record apart from a torn one before it.
    const text = `\n${lines.join('\n')}\n`;
    const appendBytes = Buffer.byteLength(text);
    if (issues.size === 0 || current.journalBytes + appendBytes > Math.max(current.snapshotBytes, JOURNAL_MIN_BYTES)) {
      await this.compact(month, issues, seq);
      return;
    }
    const fh = await open(this.journalFile(month), 'a', 0o600);
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    // A new journal's name must survive a crash as much as its content.
    if (current.journalBytes === 0) await fsyncDir(this.root);
    cacheSet(this.snapshotFile(month), { trusted: true, sig: '', snapshotBytes: current.snapshotBytes, journalBytes: current.journalBytes + appendBytes, issues: new Map(issues), seq });
  }

  /** Writes the month as one snapshot holding journal lines up to `seq`, then drops the journal (an empty month drops both). */
  private async compact(month: string, issues: MonthIssues, seq: number): Promise<void> {
    const file = this.snapshotFile(month);
    // The text of `JSON.stringify({ seq, issues })` (a `Snapshot`), an issue at a time.
    const text = `{"seq":${seq},"issues":[${(await stringifyEach([...issues.values()].sort((a, b) => a.key.localeCompare(b.key)))).join(',')}]}`;
    await writeFileAtomic(file, text, { mode: 0o600 });
    await rm(this.journalFile(month), { force: true });
    if (issues.size === 0) await rm(file, { force: true });
    await fsyncDir(this.root);
    if (issues.size > 0) cacheSet(file, { trusted: true, sig: '', snapshotBytes: Buffer.byteLength(text), journalBytes: 0, issues: new Map(issues), seq });
    else cacheDelete(file);
  }

  /** Deletes every month (a rebuild starts from nothing), with what this process kept of them. */
  async clear(): Promise<void> {
    for (const file of [...cache.keys()]) if (path.dirname(file) === this.root) cacheDelete(file);
    this.rootMade = false;
    await rm(this.root, { recursive: true, force: true });
  }

  /** One stored issue, or undefined (shared: do not modify it). */
  async get(month: string, key: string): Promise<StoredIssue | undefined> {
    return (await this.month(month)).issues.get(key);
  }

  /** Key → created month of every stored issue. */
  async index(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw err;
    }
    const months = new Set(names.flatMap((f) => /^(\d{4}_\d{2})\.(json|journal)$/.exec(f)?.[1] ?? []));
    for (const month of [...months].sort()) {
      for (const key of (await this.month(month)).issues.keys()) out.set(key, month);
    }
    return out;
  }
}
