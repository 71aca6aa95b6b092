/** Where the broker keeps its files inside a data directory. */
import path from 'node:path';

/** The event log directory of a data directory. */
export function eventsDirOf(dataDir: string): string {
  return path.join(dataDir, 'events');
}

/** The checkpoints directory of a data directory. */
export function checkpointsDirOf(dataDir: string): string {
  return path.join(dataDir, 'metadata', 'checkpoints');
}

/** Path of the control socket through which other commands reach a running server. */
export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'run', 'ada.sock');
}
