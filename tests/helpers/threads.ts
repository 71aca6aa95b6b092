/** Nice values of this process's threads (Linux). */
import { readdir, readFile } from 'node:fs/promises';

/** The nice value of one thread of this process. */
export async function niceOf(tid: string | number): Promise<number> {
  const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8');
  // Field 19 (nice), counted after the command name, which ends at the last ')'.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** The nice values of every thread of this process. */
export async function threadNices(): Promise<number[]> {
  return Promise.all((await readdir('/proc/self/task')).map(niceOf));
}
