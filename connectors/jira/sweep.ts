/**
 * Removes the temp files a killed process left behind while publishing Jira months: `.<month>.parquet.<hex>.tmp`
 * beside the Parquet files and `<month>.json.<n>` beside the issue store's month files. The caller holds the
 * event log's writer lock, so no other process is writing them.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { jiraPaths } from './projection.ts';
import { JIRA_TABLE_NAMES } from './tables.ts';

/** Temp names of `publishFile` (parquet-month.ts). */
const PARQUET_TEMP = /^\..+\.parquet\.[0-9a-f]+\.tmp$/;
/** Temp names of write-file-atomic (the issue store's month files): the target name plus a number. */
const STORE_TEMP = /^\d{4}_\d{2}\.json\.\d+$/;

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Deletes stale Jira temp files under `dataDir`; returns the paths removed. */
export async function sweepJiraTempFiles(dataDir: string): Promise<string[]> {
  const { parquet, store } = jiraPaths(dataDir);
  const removed: string[] = [];
  const sweep = async (dir: string, pattern: RegExp): Promise<void> => {
    for (const name of await names(dir)) {
      if (!pattern.test(name)) continue;
      await rm(path.join(dir, name), { force: true });
      removed.push(path.join(dir, name));
    }
  };
  for (const table of JIRA_TABLE_NAMES) await sweep(path.join(parquet, table), PARQUET_TEMP);
  await sweep(store.root, STORE_TEMP);
  return removed;
}
