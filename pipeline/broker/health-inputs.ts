/** The machine's side of health: disk use of the data directory's filesystem and the load. */
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { HealthInputs } from '../projections/health/health.ts';

/** Disk use of the filesystem holding `dir` (undefined when it cannot be read). */
export async function diskUse(dir: string): Promise<HealthInputs['disk']> {
  try {
    const s = await statfs(dir);
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    return { totalBytes: total, freeBytes: free, usedPercent: total > 0 ? ((total - free) / total) * 100 : 0 };
  } catch {
    return undefined;
  }
}

/** One-minute load and the number of cores. */
export function loadNow(): HealthInputs['load'] {
  return { load1: os.loadavg()[0] ?? 0, cpus: os.cpus().length };
}
