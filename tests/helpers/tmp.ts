/** Temporary directories for tests, removed after the test. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** Creates a temp dir removed when the test (or suite) ends. */
export async function tempDir(t: Pick<TestContext, 'after'>, prefix = 'ada-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
