/**
 * A live update keeps the page's message: the portal's live script refetches the page when a notification
 * arrives, and a message only the answer to a form carries (here a token shown once) must survive it.
 * Debian's chromium through playwright-core, as in portal-browser.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { startServe } from '../helpers/cli.ts';
import type { ServeProcess } from '../helpers/cli.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DEMO = fileURLToPath(new URL('../../examples/demo', import.meta.url));
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
/** Bound of each step (a browser action, a request, closing the browser): far above what one takes, so only a broken run reaches it. */
const STEP_MS = 30_000;

/** Settles with `promise`, or after `ms` without it. */
function bounded(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

it('a live refresh of the page keeps its message (a token shown once)', { skip: !existsSync(CHROMIUM) && `no chromium at ${CHROMIUM}`, timeout: 120_000 }, async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ada-live-flash-'));
  const up: { serve?: ServeProcess; browser?: Browser } = {};
  // One hook, in this order: the browser and the server are gone before their files are removed.
  t.after(async () => {
    if (up.browser) await bounded(up.browser.close(), STEP_MS);
    up.serve?.child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });
  const config = path.join(root, 'demo');
  await cp(DEMO, config, { recursive: true });
  const serve = up.serve = await startServe({ after: () => undefined }, ['--config', config, '--data', path.join(root, 'data')]);
  const browser = up.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS, timeout: STEP_MS });
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_MS);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto(`${serve.url}/account`);
  await page.click('button:text("Create a token")');
  const token = await page.textContent('main > .flash [data-testid=new-token]');
  assert.match(token ?? '', /^ada_/);
  // The page's websocket is authenticated: the notification below reaches it.
  await page.waitForSelector('#live-status.on');
  await page.evaluate(() => {
    (window as unknown as { before: Element | null }).before = document.getElementById('main');
  });

  // Any notification makes the page refetch itself; the dev admin's new token may send one.
  const sent = await fetch(`${serve.url}/api/notifications`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Live refresh', message: 'the page refetches itself' }), signal: AbortSignal.timeout(STEP_MS),
  });
  assert.ok(sent.ok, `dispatch answered ${sent.status}: ${await sent.text()}`);
  await page.waitForSelector('.toast:has-text("Live refresh")');
  // The live script swaps in the refetched <main>: a new element, from an answer that holds no token.
  await page.waitForFunction(() => document.getElementById('main') !== (window as unknown as { before: Element | null }).before);

  assert.deepEqual(await page.locator('main > .flash [data-testid=new-token]').allTextContents(), [token], 'the token is still shown after the refresh');
  assert.equal(await page.locator('main').count(), 1);
  assert.deepEqual(errors, []);
  assert.equal(await bounded(serve.stop(), STEP_MS), 0);
});
