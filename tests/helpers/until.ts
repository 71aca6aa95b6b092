/** Waiting for a server that works in the background. */
import assert from 'node:assert/strict';

/** Polls `check` every 100 ms until it returns a value; fails with `what` after ~90 s. */
export async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 900; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}
