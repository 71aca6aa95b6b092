/**
 * The portal in a real browser (Debian's chromium through playwright-core): dev-mode sign-in,
 * catalog, a profile with its charts, a token, a sync started elsewhere appearing live; then
 * sign-in through a local OpenID provider. No console errors, no request to another origin.
 * With SCREENSHOTS=1 the main pages are saved to docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OAuth2Server } from 'oauth2-mock-server';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { runCli, startServe } from '../helpers/cli.ts';
import type { ServeProcess } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { KEYS } from '../unit/access/ssh-keys.ts';

const ED25519_KEY = KEYS.ed25519;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DEMO = fileURLToPath(new URL('../../examples/demo', import.meta.url));
const SHOTS = fileURLToPath(new URL('../../docs/screenshots', import.meta.url));
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** A page that records console errors and every request's origin. */
async function watchedPage(browser: Browser): Promise<{ page: Page; errors: string[]; origins: Set<string> }> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const origins = new Set<string>();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => origins.add(new URL(r.url()).origin.replace(/^ws/, 'http')));
  return { page, errors, origins };
}

/**
 * Saves a screenshot of the page from its top (a reload keeps the scroll position). A whole-page
 * shot is taken in a viewport as tall as the page, so the sidebar runs its full length; toasts,
 * which come and go with the notifications of the moment, are left out.
 */
async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  if (process.env.SCREENSHOTS !== '1') return;
  await mkdir(SHOTS, { recursive: true });
  // Through the CSSOM: the page's CSP refuses injected style sheets and attributes.
  const toasts = (display: string) => page.evaluate((d) => {
    window.scrollTo(0, 0);
    for (const e of document.querySelectorAll<HTMLElement>('.toasts')) e.style.display = d;
  }, display);
  await toasts('none');
  const viewport = page.viewportSize()!;
  if (fullPage) await page.setViewportSize({ width: viewport.width, height: await page.evaluate(() => document.documentElement.scrollHeight) });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  if (fullPage) await page.setViewportSize(viewport);
  await toasts('');
}

describe('portal in a browser', { skip: !existsSync(CHROMIUM) && `no chromium at ${CHROMIUM}`, timeout: 240_000 }, () => {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => cleanups.push(fn) };
  let browser: Browser;
  let config = '';
  let flags: string[] = [];

  before(async () => {
    const root = await tempDir(t, 'ada-portal-browser-');
    config = path.join(root, 'demo');
    await cp(DEMO, config, { recursive: true });
    flags = ['--config', config, '--data', path.join(root, 'data')];
    const sync = await runCli(['sync', ...flags]);
    assert.equal(sync.code, 0, sync.stderr);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    cleanups.push(() => browser.close());
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  it('dev mode: sign in, browse the catalog, open a profile with charts, create a token, watch a sync appear live', async (tt) => {
    const serve: ServeProcess = await startServe(tt, flags);
    const { page, errors, origins } = await watchedPage(browser);

    await page.goto(serve.url);
    await page.waitForSelector('h1:text("Dashboard")');
    await page.waitForSelector('#live-status.on');
    assert.match(await page.textContent('.me-name') ?? '', /dev-admin/);
    await shot(page, 'dashboard');

    await page.click('nav a:text("Catalog")');
    await page.waitForSelector('.table-card');
    await shot(page, 'catalog');
    await page.fill('input[name=q]', 'coupon');
    await page.press('input[name=q]', 'Enter');
    await page.waitForSelector('text=1 table match');
    await page.click('.table-card[data-table=orders]');
    await page.waitForSelector('h1:text("orders")');
    // The profile is computed by the server after start; its notification refreshes the page.
    await page.waitForSelector('svg.histogram rect.bar', { timeout: 90_000 });
    assert.ok(await page.locator('svg.hbars').count() > 0, 'top values drawn as bars');
    await shot(page, 'table', true);

    await page.click('nav a:text("Metrics")');
    await page.waitForSelector('.metric');
    await shot(page, 'metrics');

    await page.click('nav a:text("My account")');
    await page.click('button:text("Create a token")');
    const token = await page.textContent('[data-testid=new-token]');
    assert.match(token ?? '', /^ada_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    await page.reload();
    assert.equal(await page.locator('[data-testid=new-token]').count(), 0, 'a token is shown once');
    await shot(page, 'account');

    await page.click('nav a:text("Admin")');
    await page.waitForSelector('h2:text("Sync now")');
    await shot(page, 'admin');
    await page.click('nav a:text("Event log")');
    await page.waitForSelector('table.events');
    await shot(page, 'events');
    await page.click('nav a:text("Health")');
    await page.waitForSelector('.hero');
    await shot(page, 'health');

    // A sync started elsewhere (the command line, through the server) appears on the open dashboard.
    await page.click('nav a:text("Dashboard")');
    await page.waitForSelector('#live-status.on');
    const before = await page.textContent('tr[data-table=orders] td.num');
    await appendFile(path.join(config, 'csv', 'orders.csv'), '199999,1001,2025-12-31 23:59:00,processing,web,US,12.50,\n');
    const sync = await runCli(['sync', '--table', 'orders', ...flags]);
    assert.equal(sync.code, 0, sync.stderr);
    await page.waitForSelector('.toast:has-text("orders")', { timeout: 60_000 });
    await page.waitForFunction((prev) => document.querySelector('tr[data-table=orders] td.num')?.textContent !== prev, before, { timeout: 60_000 });
    assert.equal(await page.textContent('tr[data-table=orders] td.num'), '3,001');

    assert.deepEqual(errors, []);
    assert.deepEqual([...origins], [serve.url], 'every request goes to our own origin');
    await page.context().close();
    assert.equal(await serve.stop(), 0);
  });

  it('sign-in through an OpenID provider lands on the dashboard as the recorded analyst', async (tt) => {
    const provider = new OAuth2Server();
    await provider.issuer.keys.generate('RS256');
    await provider.start(0, '127.0.0.1');
    cleanups.push(() => provider.stop());
    provider.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => Object.assign(token.payload, { email: 'ann.lee@example.com', email_verified: true }));
    const yaml = await readFile(path.join(config, 'instance.yaml'), 'utf8');
    await writeFile(path.join(config, 'instance.yaml'), yaml.replace('  mode: dev\n', `  mode: oidc\n  issuer: ${provider.issuer.url}\n  client_id: ada-portal\n  client_secret: not-so-secret\n`));
    const serve = await startServe(tt, flags);
    const { page, errors, origins } = await watchedPage(browser);
    await page.goto(`${serve.url}/catalog`);
    await page.waitForSelector('a:text("Sign in with your organisation")');
    await shot(page, 'signin');
    await page.click('a:text("Sign in with your organisation")');
    await page.waitForSelector('h1:text("Catalog")');
    assert.match(await page.textContent('.me-name') ?? '', /ann-lee/);
    assert.ok(!(await page.content()).includes('customer_credit'), 'a new analyst does not see the private table');
    await page.click('nav a:text("My account")');
    await page.fill('#ssh-key-text', ED25519_KEY.text);
    await page.click('button:text("Save the key")');
    await page.waitForSelector(`[data-testid=ssh-key] code:text("${ED25519_KEY.fingerprint}")`);
    assert.match(await page.textContent('.flash') ?? '', /SSH key saved/);
    assert.deepEqual(errors, []);
    assert.deepEqual([...origins].sort(), [serve.url, new URL(provider.issuer.url!).origin].sort());
    await page.context().close();
    assert.equal(await serve.stop(), 0);
  });
});
