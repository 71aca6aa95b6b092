/**
 * Every benchmark of `npm run bench` runs to the end on a tiny scale and prints each figure its goals name.
 *
 * Benchmarks are not run by CI at full size, so a change elsewhere (a gateway's new cap, a refactored helper) can
 * break one silently until the next measuring run. This runs each as its own process (`node --import tsx bench/x.ts`,
 * which prints figures and writes no docs) with the smallest sizes their knobs allow. Only that it completes and
 * reports is checked: the figures of a run this small mean nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/tmp.ts';

const BENCH = fileURLToPath(new URL('../../bench/', import.meta.url));
const NAMES = readdirSync(BENCH).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'util.ts').map((f) => f.slice(0, -3)).sort();

const TINY = {
  BENCH_SCALE: '0.01',
  BENCH_REPEAT: '1',
  BENCH_ROUNDS: '1',
  BENCH_REPLAY_SYNCS: '3',
  BENCH_FANOUT_CLIENTS: '20',
  BENCH_PULL_FILES: '20',
  // The installed command's build check runs the sources when dist/ is stale: no build here.
  BENCH_NO_BUILD: '1',
};

function runBench(name: string, dir: string, signal: AbortSignal, script = `${name}.ts`, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH, script), ...args], {
      env: { ...process.env, ...TINY, ADA_BENCH_DIR: dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A hung benchmark (the way one broke before this test) is killed when its test times out.
      signal,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => (err.name === 'AbortError' ? undefined : reject(err)));
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('npm run bench (bench/run.ts)', () => {
  it('runs each named benchmark in a process of its own and writes its figures and goals into the document', { timeout: 300_000 }, async (t) => {
    const dir = await tempDir(t, 'ada-bench-run-');
    const doc = path.join(dir, 'benchmarks.md');
    await writeFile(doc, '# Benchmarks\n\nWritten by hand, kept.\n\n<!-- figures:start (written by `npm run bench`; edit above this line) -->\n<!-- bench:pull -->\nold pull figures\n<!-- /bench:pull -->\n<!-- figures:end -->\n');
    const { code, out } = await runBench('startup', dir, t.signal, 'run.ts', ['startup'], { BENCH_DOC: doc });
    assert.match(out, /^# startup$/m, out.slice(-4000));
    assert.match(out, /^startup\.version_ratio: [\d.]+$/m, out.slice(-4000));
    assert.match(out, /goals met/, out.slice(-4000));
    // A missed goal (likely at this scale) exits 0 too; only a failed benchmark fails the run.
    assert.equal(code, 0, out.slice(-4000));
    const written = await readFile(doc, 'utf8');
    assert.match(written, /Written by hand, kept\./);
    assert.match(written, /old pull figures/, 'the section of a benchmark not run is kept');
    assert.match(written, /^### startup$/m);
    // The goals came back from the benchmark's process with its figures.
    assert.match(written, /^\| startup\.version_ratio \| [\d.]+ \| ≤ 2 \| (yes|\*\*no\*\*) \|$/m, written);
  });
});

describe('benchmarks on a tiny scale', () => {
  it('finds the benchmarks', () => {
    assert.ok(NAMES.includes('sync-csv') && NAMES.length >= 10, `benchmarks: ${NAMES.join(', ')}`);
  });

  for (const name of NAMES) {
    it(`${name} runs to the end and reports the figures of its goals`, { timeout: 300_000 }, async (t) => {
      const { code, out } = await runBench(name, await tempDir(t, `ada-bench-${name}-`), t.signal);
      assert.equal(code, 0, `bench/${name}.ts exited with ${code}:\n${out.slice(-4000)}`);
      const figures = new Map([...out.matchAll(/^([a-z_]+\.[a-z0-9_]+): (.+)$/gm)].map((m) => [m[1]!, m[2]!]));
      assert.ok(figures.size > 0, `bench/${name}.ts printed no figure:\n${out.slice(-4000)}`);
      const mod = (await import(pathToFileURL(path.join(BENCH, `${name}.ts`)).href)) as { goals?: Record<string, unknown> };
      for (const figure of Object.keys(mod.goals ?? {})) assert.ok(figures.has(figure), `bench/${name}.ts has a goal for ${figure} but did not print it`);
    });
  }
});
