/** One pull at a time per folder (`ada watch --pull` and a manual `ada pull` may meet): a pid file in `.ada/`. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { adaError } from '../../events/index.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock (taking over one left by a dead process); returns its release. Throws `LOCKED` while another pull runs. */
export async function lockPull(metaDir: string): Promise<() => Promise<void>> {
  await mkdir(metaDir, { recursive: true, mode: 0o700 });
  const file = path.join(metaDir, 'pull.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(file, 'utf8').catch(() => ''));
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        throw adaError('LOCKED', `another pull (pid ${holder}) is running in ${path.dirname(metaDir)}; wait for it to finish`);
      }
      // A pull that was killed left its lock: take it over.
      await rm(file, { force: true });
    }
  }
  throw adaError('LOCKED', `cannot take ${file}; remove it if no pull is running`);
}
