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
