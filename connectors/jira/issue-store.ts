/** The Jira projection's own store: the rows and raw JSON of each issue, one JSON file per created month. */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
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

/** Month files `<data>/metadata/jira/issues/<YYYY_MM>.json`: one write per touched month, not per issue. */
export class IssueStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'metadata', 'jira', 'issues');
  }

  private file(month: string): string {
    return path.join(this.root, `${month}.json`);
  }

  /** Every issue of a month. */
  async load(month: string): Promise<MonthIssues> {
    try {
      const list = JSON.parse(await readFile(this.file(month), 'utf8')) as StoredIssue[];
      return new Map(list.map((i) => [i.key, i]));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw err;
    }
  }

  /** Replaces a month atomically (an empty month removes its file). */
  async save(month: string, issues: MonthIssues): Promise<void> {
    if (issues.size === 0) {
      await rm(this.file(month), { force: true });
      return;
    }
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file(month), JSON.stringify([...issues.values()].sort((a, b) => a.key.localeCompare(b.key))), { mode: 0o600 });
  }

  /** One stored issue, or undefined. */
  async get(month: string, key: string): Promise<StoredIssue | undefined> {
    return (await this.load(month)).get(key);
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
      for (const key of (await this.load(month)).keys()) out.set(key, month);
    }
    return out;
  }
}
