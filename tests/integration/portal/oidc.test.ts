import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OAuth2Server } from 'oauth2-mock-server';
import { csvInstance } from '../../helpers/instance.ts';
import { cookieJar, csrfOf, openPortal } from '../../helpers/portal.ts';
import type { TestPortal } from '../../helpers/portal.ts';
import { KEYS, PRIVATE_KEY } from '../../unit/access/ssh-keys.ts';
import { decideAddAnalyst, decideIssueToken } from '../../../pipeline/index.ts';

const TABLES = `  - id: csv.shop.orders
    name: orders
    description: Orders
    file: orders.csv
`;

type Claims = Record<string, unknown>;

/** One browser: a cookie jar and manual redirects between our server and the provider. */
class Browser {
  jar = '';
  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), ...(this.jar ? { cookie: this.jar } : {}) } });
    this.jar = cookieJar(this.jar, res.headers.getSetCookie());
    return res;
  }
}

describe('OpenID Connect sign-in against a local provider', { timeout: 120_000 }, () => {
  const provider = new OAuth2Server();
  let portal: TestPortal;
  let base = '';
  let claims: Claims = {};
  const cleanups: Array<() => unknown> = [];

  before(async () => {
    await provider.issuer.keys.generate('RS256');
    await provider.start(0, '127.0.0.1');
    cleanups.push(() => provider.stop());
    // Every token the provider signs gets the claims of the current scenario.
    provider.service.on('beforeTokenSigning', (token: { payload: Claims }) => Object.assign(token.payload, claims));
    const t = { after: (fn: () => unknown) => cleanups.push(fn) };
    const inst = await csvInstance(t, TABLES);
    const opened = await openPortal(t, { configDir: inst.configDir, dataDir: inst.dataDir });
    const config = opened.broker.config;
    portal = await openPortal(t, { configDir: inst.configDir, dataDir: `${inst.dataDir}-b` }, {
      config: { ...config, instance: { ...config.instance, auth: { ...config.instance.auth, mode: 'oidc', issuer: provider.issuer.url!, clientId: 'ada-portal', clientSecret: 'client-secret', allowedEmails: ['ann@gmail.com'] } } },
    });
    base = await portal.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  /** Runs a whole sign-in; `tamper` may change the URLs on the way. */
  async function signIn(c: Claims, tamper: { authorize?: (u: URL) => void; callback?: (u: URL) => void } = {}): Promise<{ browser: Browser; res: Response; body: string }> {
    claims = c;
    const browser = new Browser();
    const start = await browser.get(`${base}/auth/login?next=/catalog`);
    assert.equal(start.status, 302);
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(authorize.origin, new URL(provider.issuer.url!).origin);
    assert.equal(authorize.searchParams.get('scope'), 'openid email profile');
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(authorize.searchParams.get('state') && authorize.searchParams.get('nonce'));
    tamper.authorize?.(authorize);
    const back = await fetch(authorize, { redirect: 'manual' });
    assert.equal(back.status, 302);
    const callback = new URL(back.headers.get('location')!);
    tamper.callback?.(callback);
    const res = await browser.get(callback.toString());
    return { browser, res, body: await res.text() };
  }

  const verified = (email: string): Claims => ({ email, email_verified: true, name: 'Someone' });

  it('signs in a verified email of the allowed domain, records the analyst once, and lands where asked', async () => {
    const { browser, res } = await signIn(verified('Ann@example.com'));
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/catalog');
    assert.match(res.headers.getSetCookie().join('\n'), /ada_session=[^;]+;.*HttpOnly/i);
    assert.match(res.headers.getSetCookie().find((c) => c.startsWith('ada_session='))!, /SameSite=Lax/i);
    const me = await (await browser.get(`${base}/api/account`)).json() as { name: string; role: string; email: string };
    assert.deepEqual([me.name, me.role, me.email], ['ann', 'analyst', 'ann@example.com']);
    const again = await signIn(verified('ann@example.com'));
    assert.equal(again.res.status, 302);
    const added = (await portal.deps.access!()).analysts;
    assert.deepEqual(Object.keys(added), ['ann'], 'the second sign-in finds the same analyst');
  });

  it('signs in an allow-listed address of another domain under a free name (collision handled)', async () => {
    const { browser, res } = await signIn(verified('ann@gmail.com'));
    assert.equal(res.status, 302);
    const me = await (await browser.get(`${base}/api/account`)).json() as { name: string };
    assert.equal(me.name, 'ann2');
  });

  it('refuses another domain and an unverified email with a page that says why', async () => {
    const other = await signIn(verified('eve@evil.example'));
    assert.equal(other.res.status, 403);
    assert.match(other.body, /eve@evil\.example may not sign in here: only addresses at @example\.com/);
    const me = await other.browser.get(`${base}/api/account`);
    assert.equal(me.status, 401, 'no session after a refusal');
    const unverified = await signIn({ email: 'bob@example.com', email_verified: false });
    assert.equal(unverified.res.status, 403);
    assert.match(unverified.body, /bob@example\.com is not verified/);
  });

  it('refuses a tampered state, a wrong nonce, an expired token and a token for another audience', async () => {
    const state = await signIn(verified('carl@example.com'), { callback: (u) => u.searchParams.set('state', `${u.searchParams.get('state')}x`) });
    assert.equal(state.res.status, 403);
    assert.match(state.body, /not started from this browser, or its link was changed/);
    const nonce = await signIn(verified('carl@example.com'), { authorize: (u) => u.searchParams.set('nonce', 'another-nonce') });
    assert.equal(nonce.res.status, 403);
    assert.match(nonce.body, /nonce differs/);
    const past = Math.floor(Date.now() / 1000) - 7200;
    const expired = await signIn({ ...verified('carl@example.com'), iat: past, exp: past + 60 });
    assert.equal(expired.res.status, 403);
    assert.match(expired.body, /has expired/);
    const audience = await signIn({ ...verified('carl@example.com'), aud: 'someone-else' });
    assert.equal(audience.res.status, 403);
    assert.match(audience.body, /&quot;aud&quot; claim is not ours/);
    assert.ok(!Object.hasOwn((await portal.deps.access!()).analysts, 'carl'), 'no refused person is recorded');
  });

  it('a bearer token decides alone: sent with a session cookie, the request is the token\'s, and a bad token is refused', async () => {
    const { browser } = await signIn(verified('erin@example.com'));
    assert.equal(((await (await browser.get(`${base}/api/account`)).json()) as { name: string }).name, 'erin');
    const added = decideAddAnalyst(await portal.deps.access!(), portal.deps.config, { name: 'fred', role: 'analyst' });
    await portal.deps.append!({ ...added.event, key: added.idempotencyKey });
    const issued = decideIssueToken(await portal.deps.access!(), portal.deps.config, 'fred');
    await portal.deps.append!({ ...issued.event, key: issued.idempotencyKey });
    const asFred = await browser.get(`${base}/api/account`, { headers: { authorization: `Bearer ${issued.token.token}` } });
    assert.equal(((await asFred.json()) as { name: string }).name, 'fred');
    const wrong = await browser.get(`${base}/api/account`, { headers: { authorization: 'Bearer ada_0123456789abcdef_not-a-real-secret-at-all-000000000' } });
    assert.equal(wrong.status, 401, 'the session does not stand in for a refused token');
    assert.equal((await browser.get(`${base}/api/account`)).status, 200, 'the session still works alone');
  });

  it('sign-out needs the CSRF token; removing the analyst ends their session', async () => {
    const { browser } = await signIn(verified('dora@example.com'));
    const page = await browser.get(`${base}/account`);
    assert.equal(page.status, 200);
    const csrf = csrfOf(await page.text());
    const forged = await browser.get(`${base}/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(forged.status, 403);
    const token = await browser.get(`${base}/account/tokens`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf }).toString() });
    assert.equal(token.status, 303);
    const shown = await (await browser.get(`${base}/account`)).text();
    assert.match(shown, /data-testid="new-token">ada_[0-9a-f]{16}_/);
    assert.doesNotMatch(await (await browser.get(`${base}/account`)).text(), /new-token/, 'shown once');
    await portal.deps.append!({ type: 'AnalystRemoved', v: 1, data: { name: 'dora' } });
    const after = await browser.get(`${base}/`);
    assert.equal(after.status, 302);
    assert.match(after.headers.get('location')!, /^\/signin/);
  });

  it('the account page sets and removes the SSH key by form, with the CSRF token; errors are shown, not stored', async () => {
    const { browser } = await signIn(verified('erin@example.com'));
    const form = (url: string, fields: Record<string, string>) => browser.get(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const page = await (await browser.get(`${base}/account`)).text();
    assert.match(page, /<textarea id="ssh-key-text" name="sshKey"/);
    const csrf = csrfOf(page);
    assert.equal((await form('/account/ssh-key', { sshKey: KEYS.ecdsa521.text })).status, 403, 'no CSRF token, no change');
    assert.equal((await form('/account/ssh-key', { _csrf: csrf, sshKey: PRIVATE_KEY })).status, 303);
    const refused = await (await browser.get(`${base}/account`)).text();
    assert.match(refused, /PRIVATE key/);
    assert.ok(!refused.includes('b3BlbnNzaC1rZXktdjE'), 'the private key is not echoed');
    assert.equal((await form('/account/ssh-key', { _csrf: csrf, sshKey: KEYS.ecdsa521.text })).status, 303);
    const saved = await (await browser.get(`${base}/account`)).text();
    assert.ok(saved.includes(`SSH key saved: ${KEYS.ecdsa521.fingerprint}`), saved);
    assert.ok(saved.includes(`data-testid="ssh-key"><code>${KEYS.ecdsa521.fingerprint}</code>`));
    assert.equal((await portal.deps.access!()).analysts.erin?.sshKey, KEYS.ecdsa521.text);
    assert.equal((await form('/account/ssh-key/remove', { _csrf: csrfOf(saved) })).status, 303);
    assert.match(await (await browser.get(`${base}/account`)).text(), /SSH key removed/);
    assert.equal((await portal.deps.access!()).analysts.erin?.sshKey, undefined);
  });

  it('rate-limits the sign-in endpoints', async () => {
    let limited = false;
    for (let i = 0; i < 40 && !limited; i++) limited = (await fetch(`${base}/signin`, { redirect: 'manual' })).status === 429;
    assert.ok(limited);
  });
});
