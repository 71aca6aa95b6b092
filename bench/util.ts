/** Shared helpers of the benchmarks: timing, peak RSS, printing `name: value` lines. */
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** Scratch space of the benchmarks (git-ignored). */
export const BENCH_DIR = path.resolve(process.env.ADA_BENCH_DIR ?? 'bench/.work');

/** A fresh scratch directory for one benchmark. */
export async function scratch(name: string): Promise<string> {
  const dir = path.join(BENCH_DIR, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Runs `fn` and returns its result and elapsed milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - start };
}

/** Peak resident set size of this process so far, in MB (Linux VmHWM). */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // Not Linux: fall back to the current RSS.
  }
  return process.memoryUsage().rss / 1024 / 1024;
}

/** Figures a benchmark reports, in the order printed. */
export type Figures = Array<[string, string | number]>;

/** Prints one `name: value` line per figure. */
export function report(figures: Figures): void {
  for (const [name, value] of figures) {
    process.stdout.write(`${name}: ${typeof value === 'number' ? round(value) : value}\n`);
  }
}

/** Rounds to 3 significant decimals for display. */
export function round(n: number): number {
  if (Math.abs(n) >= 100) return Math.round(n);
  return Math.round(n * 1000) / 1000;
}
