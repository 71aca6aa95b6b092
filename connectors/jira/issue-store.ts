/** The Jira projection's own store: the rows of each issue as one JSON file per issue, grouped by created month. */
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

/** An issue key as a file name: Jira keys are `PROJ-123`; anything else is escaped. */
export function keyFileName(key: string): string {
  return /^[A-Za-z][A-Za-z0-9_]*-\d+$/.test(key) ? key : `_${Buffer.from(key).toString('hex').slice(0, 200)}`;
}

/** Issue files under `<data>/metadata/jira/issues/<YYYY_MM>/<KEY>.json`. */
export class IssueStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'metadata', 'jira', 'issues');
  }

  private file(month: string, key: string): string {
    return path.join(this.root, month, `${keyFileName(key)}.json`);
  }

  /** The stored issue, or undefined. */
  async get(month: string, key: string): Promise<StoredIssue | undefined> {
    try {
      return JSON.parse(await readFile(this.file(month, key), 'utf8')) as StoredIssue;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Replaces the stored issue atomically. */
  async put(month: string, issue: StoredIssue): Promise<void> {
    await mkdir(path.join(this.root, month), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file(month, issue.key), JSON.stringify(issue), { mode: 0o600 });
  }

  /** Removes the issue. */
  async remove(month: string, key: string): Promise<void> {
    await rm(this.file(month, key), { force: true });
  }

  /** Key → created month of every stored issue. */
  async index(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let months: string[];
    try {
      months = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw err;
    }
    for (const month of months.sort()) {
      for (const issue of await this.month(month)) out.set(issue.key, month);
    }
    return out;
  }

  /** Every issue of a month, in key order. */
  async month(month: string): Promise<StoredIssue[]> {
    let names: string[];
    try {
      names = (await readdir(path.join(this.root, month))).filter((n) => n.endsWith('.json')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(this.root, month, n), 'utf8')) as StoredIssue));
  }
}
