/** Keeps the broker's files private to its user: the umask, tightening an existing data dir, and warnings. */
import { chmod, lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The umask every `ada` process runs with: files 0600, directories 0700, whatever the caller's umask. The data
 * dir holds private tables, the event log and sample values; only the broker's user may read them (analysts get
 * data through the distribution API, filtered by role).
 */
export const PRIVATE_UMASK = 0o077;
/** Mode of every directory under the data dir. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file under the data dir. */
export const PRIVATE_FILE_MODE = 0o600;
/** Permission bits that let the group or others read, write or enter. */
const GROUP_OR_OTHERS = 0o077;

/** Sets the process umask so every file created from now on is private; a worker thread (which may not) keeps its own. */
export function usePrivateUmask(): void {
  try {
    process.umask(PRIVATE_UMASK);
  } catch {
    // process.umask() throws in worker threads; their files are created by the main thread.
  }
}

/**
 * Makes every directory under `dataDir` 0700 and every file 0600; returns how many entries were changed
 * (0 when the dir does not exist). Symlinks are left alone: their targets may live elsewhere.
 */
export async function tightenDataDir(dataDir: string): Promise<number> {
  let root;
  try {
    root = await lstat(dataDir);
  } catch {
    return 0;
  }
  if (!root.isDirectory()) return 0;
  let changed = 0;
  const fix = async (file: string, mode: number, want: number): Promise<void> => {
    if ((mode & 0o777) === want || (mode & GROUP_OR_OTHERS) === 0) return;
    try {
      await chmod(file, want);
      changed++;
    } catch {
      // Gone meanwhile (a temp file of a finished run): nothing to protect.
    }
  };
  await fix(dataDir, root.mode, PRIVATE_DIR_MODE);
  // The entries of a directory are looked at side by side (one round trip through libuv's pool, not one per entry):
  // the walk runs before every command that opens the data dir, and the blob store grows with every sync.
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    await Promise.all(entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) return;
      let st;
      try {
        st = await lstat(full);
      } catch {
        return;
      }
      if (entry.isDirectory()) {
        await fix(full, st.mode, PRIVATE_DIR_MODE);
        await walk(full);
      } else {
        await fix(full, st.mode, PRIVATE_FILE_MODE);
      }
    }));
  };
  await walk(dataDir);
  return changed;
}

/** The line printed after `tightenDataDir` changed something. */
export function tightenedLine(dataDir: string, changed: number): string {
  return `tightened permissions of ${changed} ${changed === 1 ? 'entry' : 'entries'} under ${dataDir} (were readable by others): files are now 0600, directories 0700`;
}

/** Warnings for the configuration's `.env`, the config dir and the data dir when the group or others may read them. */
export async function permissionWarnings(configDir: string, dataDir: string): Promise<string[]> {
  const warnings: string[] = [];
  const check = async (target: string, what: string, fix: string): Promise<void> => {
    let st;
    try {
      st = await stat(target);
    } catch {
      return;
    }
    if ((st.mode & 0o044) !== 0) {
      warnings.push(`${what} ${target} is readable by ${(st.mode & 0o040) !== 0 ? 'its group' : ''}${(st.mode & 0o044) === 0o044 ? ' and ' : ''}${(st.mode & 0o004) !== 0 ? 'every local user' : ''} (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); run \`${fix}\``);
    }
  };
  await check(path.join(configDir, '.env'), 'the secrets file', `chmod 600 ${path.join(configDir, '.env')}`);
  await check(configDir, 'the config dir', `chmod 700 ${configDir}`);
  await check(dataDir, 'the data dir', `chmod 700 ${dataDir}`);
  return warnings;
}
