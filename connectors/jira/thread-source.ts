import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * How a worker thread of the Jira connector is started: it runs a sibling module of the caller's. Under tsx (sources,
 * tests) the thread registers tsx itself first: a process started by `bin/ada.js` registered it in code, which a
 * worker does not inherit.
 */

/** The code and `workerData` of a thread running `./<name>.ts` (sources) or `./<name>.js` (dist/) next to `importMetaUrl`. */
export function threadSource(name: string, importMetaUrl: string): { code: string; workerData: { entry: string; tsx?: string } } {
  const ts = importMetaUrl.endsWith('.ts');
  const entry = new URL(`./${name}.${ts ? 'ts' : 'js'}`, importMetaUrl).href;
  // Only dynamic imports: the code runs as a script or as a module, as the process's flags (`--input-type`) say.
  const code = `(async () => {
  const { workerData } = await import('node:worker_threads');
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => { process.nextTick(() => { throw err; }); });`;
  return { code, workerData: { entry, ...(ts ? { tsx: import.meta.resolve('tsx/esm/api') } : {}) } };
}

/**
 * Lowers the calling thread's priority to `nice` (Linux: a thread has its own nice value, and threads it starts inherit
 * it). Left as it is where a thread's id cannot be found, or the thread's priority is lower already.
 */
export function lowerThisThreadsPriority(nice: number): void {
  try {
    // `/proc/thread-self` names this thread as `<pid>/task/<tid>`; setpriority(2) with a thread id sets that thread's.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.max(getPriority(tid), nice));
  } catch {
    // Not Linux, or not allowed: the thread runs at the process's priority.
  }
}
