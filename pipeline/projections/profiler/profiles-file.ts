/** `<data>/metadata/profiles.json`: read, changed one table at a time under a lock, written atomically (temp, fsync, rename). */
import { mkdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import type { ProfilesDocument, TableProfile } from './types.ts';

/** Format version of profiles.json. */
export const PROFILES_VERSION = 1;

/** Path of profiles.json under a data directory. */
export function profilesFile(dataDir: string): string {
  return path.join(dataDir, 'metadata', 'profiles.json');
}

/**
 * Path of the profiles a replay set aside (`profiles.previous.json`): the rebuild keeps an entry whose inputs did not
 * change instead of profiling the table again; the first profiling run after the rebuild deletes the file.
 */
export function previousProfilesFile(dataDir: string): string {
  return path.join(dataDir, 'metadata', 'profiles.previous.json');
}

function emptyDocument(): ProfilesDocument {
  return { generated_at: new Date(0).toISOString(), version: PROFILES_VERSION, tables: {} };
}

/**
 * The profiles document; an empty one when the file does not exist or is not JSON (it is only ever written
 * atomically, so that means someone edited it; profiling then starts it afresh, as a replay would).
 */
export async function readProfiles(dataDir: string): Promise<ProfilesDocument> {
  return readDocument(profilesFile(dataDir));
}

/** The profiles a replay set aside; an empty document when there are none or they cannot be read (they are only a cache). */
export async function readPreviousProfiles(dataDir: string): Promise<ProfilesDocument> {
  try {
    return await readDocument(previousProfilesFile(dataDir));
  } catch {
    return emptyDocument();
  }
}

/** Moves profiles.json aside for a rebuild (see previousProfilesFile); replaces what an earlier replay set aside. */
export async function setProfilesAside(dataDir: string): Promise<void> {
  try {
    await rename(profilesFile(dataDir), previousProfilesFile(dataDir));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function readDocument(file: string): Promise<ProfilesDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyDocument();
    throw err;
  }
  let doc: Partial<ProfilesDocument>;
  try {
    doc = JSON.parse(text) as Partial<ProfilesDocument>;
  } catch {
    return emptyDocument();
  }
  if (!doc || typeof doc !== 'object' || !doc.tables || typeof doc.tables !== 'object') return emptyDocument();
  return { generated_at: doc.generated_at ?? emptyDocument().generated_at, version: PROFILES_VERSION, tables: doc.tables };
}

/** Read-modify-write chains per file, so two profiling runs of one process never lose each other's tables. */
const locks = new Map<string, Promise<unknown>>();

/**
 * proper-lockfile options of the lock between processes (`ada serve`'s projection and `ada profile` may both
 * write): a change holds it for milliseconds; a lock not refreshed for 10 s belongs to a dead process.
 */
const FILE_LOCK = { realpath: false, stale: 10_000, update: 2_000, retries: { retries: 200, factor: 1.2, minTimeout: 10, maxTimeout: 250 } };

/**
 * Applies `change` to the table entries of profiles.json and writes the result atomically; one change at a time
 * per file, in this process and across processes (a lock file next to it). `change` returns the new entry of one
 * table (undefined leaves the document unchanged).
 */
export async function updateProfiles(dataDir: string, table: string, change: (previous: TableProfile | undefined) => TableProfile | undefined): Promise<TableProfile | undefined> {
  const file = profilesFile(dataDir);
  const run = async (): Promise<TableProfile | undefined> => {
    await mkdir(path.dirname(file), { recursive: true });
    const release = await lockfile.lock(file, { ...FILE_LOCK, lockfilePath: `${file}.lock` });
    try {
      const doc = await readProfiles(dataDir);
      const next = change(doc.tables[table]);
      if (next === undefined) return undefined;
      const out: ProfilesDocument = { generated_at: new Date().toISOString(), version: PROFILES_VERSION, tables: { ...doc.tables, [table]: next } };
      await writeFileAtomic(file, `${JSON.stringify(out, null, 2)}\n`, { fsync: true });
      return next;
    } finally {
      await release();
    }
  };
  const previous = locks.get(file) ?? Promise.resolve();
  const result = previous.then(run, run);
  const settled = result.catch(() => undefined);
  locks.set(file, settled);
  void settled.then(() => {
    if (locks.get(file) === settled) locks.delete(file);
  });
  return result;
}
