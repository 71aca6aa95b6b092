/**
 * Where a running `ada serve` listens for other commands: `<data dir>/run/ada.sock`. The same path as
 * pipeline's `controlSocketPath` (tests/unit/sync-client.test.ts checks they agree), kept here in a file that
 * imports nothing of ours, so the thin `ada sync` client finds the server without loading the pipeline.
 */
import path from 'node:path';

/** Path of the control socket of the data directory `dataDir`. */
export function controlSocketOf(dataDir: string): string {
  return path.join(dataDir, 'run', 'ada.sock');
}
