/** The Jira projection's own store: the rows and raw JSON of each issue, one JSON file per created month. */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
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

interface CachedMonth { ino: number; size: number; mtimeMs: number; issues: MonthIssues }

/** Parsed month files by path, least recently used first; an entry is used only while the file's inode, size and mtime match. */
const cache = new Map<string, CachedMonth>();
let cachedBytes = 0;

function cacheSet(file: string, entry: CachedMonth): void {
  cacheDelete(file);
  cache.set(file, entry);
  cachedBytes += entry.size;
  for (const [k] of cache) {
    if (cachedBytes <= CACHE_MAX_BYTES || k === file) break;
    cacheDelete(k);
  }
}

function cacheDelete(file: string): void {
  const old = cache.get(file);
  if (!old) return;
  cache.delete(file);
  cachedBytes -= old.size;
}

async function signature(file: string): Promise<Omit<CachedMonth, 'issues'> | undefined> {
  try {
    const st = await stat(file);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Month files `<data>/metadata/jira/issues/<YYYY_MM>.json`: one write per touched month, not per issue. */
export class IssueStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'metadata', 'jira', 'issues');
  }

  private file(month: string): string {
    return path.join(this.root, `${month}.json`);
  }

  /** Every issue of a month (a new map; the stored issues in it are shared and must not be modified). */
  async load(month: string): Promise<MonthIssues> {
    return new Map(await this.loadShared(month));
  }

  private async loadShared(month: string): Promise<MonthIssues> {
    const file = this.file(month);
    const sig = await signature(file);
    if (!sig) {
      cacheDelete(file);
      return new Map();
    }
    const hit = cache.get(file);
    if (hit && hit.ino === sig.ino && hit.size === sig.size && hit.mtimeMs === sig.mtimeMs) {
      cacheSet(file, hit);
      return hit.issues;
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw err;
    }
    const list = JSON.parse(text) as StoredIssue[];
    const issues: MonthIssues = new Map(list.map((i) => [i.key, i]));
    // Cached only when the file did not change while it was read.
    const after = await signature(file);
    if (after && after.ino === sig.ino && after.size === sig.size && after.mtimeMs === sig.mtimeMs && after.size === Buffer.byteLength(text)) cacheSet(file, { ...after, issues });
    return issues;
  }

  /** Replaces a month atomically (an empty month removes its file). */
  async save(month: string, issues: MonthIssues): Promise<void> {
    const file = this.file(month);
    cacheDelete(file);
    if (issues.size === 0) {
      await rm(file, { force: true });
      return;
    }
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const text = JSON.stringify([...issues.values()].sort((a, b) => a.key.localeCompare(b.key)));
    await writeFileAtomic(file, text, { mode: 0o600 });
    const sig = await signature(file);
    if (sig && sig.size === Buffer.byteLength(text)) cacheSet(file, { ...sig, issues: new Map(issues) });
  }

  /** One stored issue, or undefined (shared: do not modify it). */
  async get(month: string, key: string): Promise<StoredIssue | undefined> {
    return (await this.loadShared(month)).get(key);
  }

  /** Key → created month of every stored issue. */
  async index(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let files: string[];
    try {
      files = (await readdir(this.root)).filter((f) => /^\d{4}_\d{2}\.json$/.test(f)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw err;
    }
    for (const f of files) {
      const month = f.slice(0, -'.json'.length);
      for (const key of (await this.loadShared(month)).keys()) out.set(key, month);
    }
    return out;
  }
}
