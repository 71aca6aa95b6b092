// Preloaded into a benchmark's `ada` child (`node --import`): at exit, copies /proc/self/io to $ADA_BENCH_IO_FILE,
// so the benchmark learns how many bytes the whole process read.
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.env.ADA_BENCH_IO_FILE;
if (out) {
  process.on('exit', () => {
    try {
      writeFileSync(out, readFileSync('/proc/self/io'));
    } catch {
      // Not Linux: no figure.
    }
  });
}
