/**
 * The publish journal: a table's pending renames, deletions and manifest, written before the first rename so a crash
 * mid-publish is rolled forward on the next start. Paths in it are relative to the data directory.
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { adaError, fsyncDir } from '../../../events/index.ts';
import { ATOMIC_WRITE_TEMP_RE, TEMP_FILE_RE } from './atomic-files.ts';
import { isInsideParquetRoot, JOURNAL_PREFIX, PARQUET_ROOT } from './table-layout.ts';

/** The on-disk journal of one table's publish. */
export interface PublishJournal {
  v: 1;
  table: string;
  /** Temp files (already fsynced) to rename over their final paths. */
  renames: Array<{ from: string; to: string }>;
  /** Published files that are no longer part of the table. */
  deletes: string[];
  /** The partition manifest to write once the files are in place. */
  manifest?: { path: string; content: string };
  /** State files of the caller (under `metadata/`) that must change together with the table. */
  extras?: Array<{ path: string; content: string }>;
}

/**
 * Where a rebuild stages a table's files, relative to the data directory: inside it (so the swap is a rename on one
 * filesystem) and outside `parquet/` (so nothing that serves published files sees them).
 */
export const REBUILD_DIR = 'tmp/rebuild';

/** Code of a journal that cannot be read; it is written atomically, so this means outside interference. */
export const JOURNAL_CORRUPT = 'JOURNAL_CORRUPT';

/** Writes the journal durably: its content (write-file-atomic fsyncs the file) and its directory entry. */
export async function writeJournal(dataDir: string, journalPath: string, journal: PublishJournal): Promise<void> {
  const abs = path.join(dataDir, journalPath);
  await writeFileAtomic(abs, `${JSON.stringify(journal, null, 2)}\n`, { fsync: true });
  await fsyncDir(path.dirname(abs));
}

/**
 * Carries a journal out and removes it. Idempotent: a rename whose temp file is gone already happened,
 * a deletion of a missing file already happened, the manifest is rewritten whole.
 */
export async function applyJournal(dataDir: string, journalPath: string, journal: PublishJournal): Promise<void> {
  // Renames and deletions touch distinct paths, so they run at once; then the manifest and state files are written, so
  // a reader that sees them finds the files they name. Until the journal is removed a crash rolls every step forward
  // again, so the directories need to be durable only before that: they are fsynced once, all at a time, after the
  // writes (one round of directory fsyncs where there were two, one after the renames and one after the writes).
  const dirs = new Set<string>();
  await Promise.all(journal.renames.map(async ({ from, to }) => {
    const src = isInsideRebuildDir(from) ? path.join(dataDir, from) : resolveInside(dataDir, from);
    const dst = resolveInside(dataDir, to);
    dirs.add(path.dirname(dst));
    try {
      await rename(src, dst);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }));
  await Promise.all(journal.deletes.map(async (rel) => {
    const abs = resolveInside(dataDir, rel);
    dirs.add(path.dirname(abs));
    await rm(abs, { force: true });
  }));
  const writes = [
    ...(journal.manifest ? [{ abs: resolveInside(dataDir, journal.manifest.path), content: journal.manifest.content }] : []),
    ...(journal.extras ?? []).map((extra) => ({ abs: resolveMetadata(dataDir, extra.path), content: extra.content })),
  ];
  await Promise.all(writes.map(async ({ abs, content }) => {
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFileAtomic(abs, content, { fsync: true });
  }));
  for (const w of writes) dirs.add(path.dirname(w.abs));
  await Promise.all([...dirs].map(fsyncIfExists));
  const journalAbs = path.join(dataDir, journalPath);
  await rm(journalAbs, { force: true });
  await fsyncDir(path.dirname(journalAbs));
}

/** Reads a journal, or undefined when there is none. */
export async function readJournal(dataDir: string, journalPath: string): Promise<PublishJournal | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, journalPath), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const journal = JSON.parse(text) as PublishJournal;
    if (journal.v !== 1 || !Array.isArray(journal.renames) || !Array.isArray(journal.deletes)) throw new Error('unknown journal shape');
    return journal;
  } catch (err) {
    throw adaError(JOURNAL_CORRUPT, `publish journal ${journalPath} cannot be read (${(err as Error).message}); move it away and rebuild the table with ada replay`, { path: journalPath }, err);
  }
}

/**
 * Rolls every table's journal forward, then removes temp files no journal claims any more (a crash before the
 * journal was written: the old files are still the published ones). Call only while nothing publishes into `dataDir`.
 */
export async function recoverPublishes(dataDir: string): Promise<{ rolledForward: string[]; removedTemps: string[] }> {
  const root = path.join(dataDir, PARQUET_ROOT);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { rolledForward: [], removedTemps: [] };
    throw err;
  }
  const rolledForward: string[] = [];
  for (const name of names.sort()) {
    if (!name.startsWith(JOURNAL_PREFIX) || !name.endsWith('.json')) continue;
    const rel = `${PARQUET_ROOT}/${name}`;
    const journal = await readJournal(dataDir, rel);
    if (!journal) continue;
    await applyJournal(dataDir, rel, journal);
    rolledForward.push(journal.table);
  }
  const removedTemps: string[] = [];
  await sweepTemps(root, removedTemps);
  return { rolledForward, removedTemps };
}

async function sweepTemps(dir: string, removed: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  let any = false;
  for (const entry of entries) {
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await sweepTemps(abs, removed);
    } else if (entry.isFile() && (TEMP_FILE_RE.test(entry.name) || ATOMIC_WRITE_TEMP_RE.test(entry.name))) {
      await rm(abs, { force: true });
      removed.push(abs);
      any = true;
    }
  }
  if (any) await fsyncDir(dir);
}

/** Resolves a journal path, refusing anything outside `<dataDir>/parquet/` (a journal is data, never trusted to aim elsewhere). */
function resolveInside(dataDir: string, rel: string): string {
  if (!isInsideParquetRoot(rel)) {
    throw adaError(JOURNAL_CORRUPT, `publish journal names ${rel}, which is not inside ${PARQUET_ROOT}/`, { path: rel });
  }
  return path.join(dataDir, rel);
}

function isInsideRebuildDir(rel: string): boolean {
  return rel.startsWith(`${REBUILD_DIR}/${PARQUET_ROOT}/`) && path.posix.normalize(rel) === rel && !rel.split('/').includes('..');
}

function resolveMetadata(dataDir: string, rel: string): string {
  if (!rel.startsWith('metadata/') || path.posix.normalize(rel) !== rel || rel.split('/').includes('..')) {
    throw adaError(JOURNAL_CORRUPT, `publish journal names extra file ${rel}, which is not inside metadata/`, { path: rel });
  }
  return path.join(dataDir, rel);
}

async function fsyncIfExists(dir: string): Promise<void> {
  try {
    await fsyncDir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
