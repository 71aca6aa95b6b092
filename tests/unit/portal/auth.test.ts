import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseName, checkSignIn, freeName } from '../../../portal/auth/sign-in-policy.ts';
import { mintTicket, SESSION_LIMITS, verifyTicket } from '../../../portal/auth/session.ts';
import { decideSubscriptions } from '../../../portal/data/subscriptions.ts';
import { html, raw } from '../../../portal/views/html.ts';

const auth = { allowedDomain: 'example.com', allowedEmails: ['guest@gmail.com'], webappSecretKey: 'k'.repeat(32) };

describe('sign-in policy', () => {
  it('accepts verified emails of the allowed domain or the allow-list and says why it refuses the rest', () => {
    assert.deepEqual(checkSignIn({ email: 'Ann@Example.com', email_verified: true }, auth), { ok: true, email: 'ann@example.com', via: 'domain' });
    assert.deepEqual(checkSignIn({ email: 'guest@gmail.com', email_verified: true }, auth), { ok: true, email: 'guest@gmail.com', via: 'allow-list' });
    const other = checkSignIn({ email: 'eve@evil.com', email_verified: true }, auth);
    assert.ok(!other.ok && /only addresses at @example\.com/.test(other.reason));
    const unverified = checkSignIn({ email: 'ann@example.com', email_verified: false }, auth);
    assert.ok(!unverified.ok && /not verified/.test(unverified.reason));
    const sub = checkSignIn({ email: 'ann@sub.example.com', email_verified: true }, auth);
    assert.equal(sub.ok, false, 'a subdomain is another domain');
    assert.equal(checkSignIn({}, auth).ok, false);
  });

  it('derives analyst names from emails and resolves collisions', () => {
    assert.equal(baseName('Jana.Nováková@example.com'), 'jana-novakova');
    assert.equal(baseName('1x@example.com'), 'userx');
    assert.equal(baseName('Δ@example.com'), 'user');
    assert.match(baseName(`${'a'.repeat(60)}@example.com`), /^a{28}$/);
    assert.equal(freeName('ann', (n) => !['ann', 'ann2'].includes(n)), 'ann3');
  });
});

describe('session tickets', () => {
  it('verify when signed with the key and not expired; anything else is refused', () => {
    const now = 1_000_000;
    const t = mintTicket('secret-a', { name: 'ann', gen: 2, exp: now + SESSION_LIMITS.absoluteMs });
    assert.deepEqual(verifyTicket('secret-a', t, now), { name: 'ann', gen: 2, exp: now + SESSION_LIMITS.absoluteMs });
    assert.equal(verifyTicket('secret-b', t, now), undefined, 'another key');
    assert.equal(verifyTicket('secret-a', t, now + SESSION_LIMITS.absoluteMs), undefined, 'expired');
    const [v, payload, mac] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ name: 'admin', gen: 0, exp: now + 1e9 })).toString('base64url');
    assert.equal(verifyTicket('secret-a', `${v}.${forged}.${mac}`, now), undefined, 'changed payload');
    assert.equal(verifyTicket('secret-a', `${v}.${payload}`, now), undefined);
    assert.equal(verifyTicket('secret-a', 'nonsense', now), undefined);
  });
});

describe('subscriptions', () => {
  const datasets = { sales: { key: 'sales', label: 'Sales', requires: [] }, web: { key: 'web', label: 'Web', requires: ['sales'] } };
  it('merge a change with the current ones, check requires and emit only the differences', () => {
    assert.deepEqual(decideSubscriptions('ann', [], { sales: true, web: true }, datasets).events.map((e) => `${e.type}:${e.data.dataset}`), ['DatasetSubscribed:sales', 'DatasetSubscribed:web']);
    assert.throws(() => decideSubscriptions('ann', [], { web: true }, datasets), /Web \(web\) requires Sales \(sales\)/);
    assert.throws(() => decideSubscriptions('ann', ['sales', 'web'], { sales: false }, datasets), /requires Sales/);
    assert.throws(() => decideSubscriptions('ann', [], { jira: true }, datasets), /unknown dataset "jira"/);
    assert.throws(() => decideSubscriptions('ann', [], { sales: 'yes' }, datasets), /true or false/);
    const d = decideSubscriptions('ann', ['sales', 'web'], { web: false }, datasets);
    assert.deepEqual(d.datasets, ['sales']);
    assert.deepEqual(d.events, [{ type: 'DatasetUnsubscribed', v: 1, data: { name: 'ann', dataset: 'web' } }]);
  });
});

describe('html', () => {
  it('escapes every interpolation unless it is markup built by html or raw', () => {
    const name = `<img src=x onerror="alert('x')">&`;
    assert.equal(html`<p title="${name}">${name}</p>`.value, '<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</p>');
    assert.equal(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value, '<ul><li>a&lt;</li><li>b</li></ul>');
    assert.equal(html`${undefined}${null}${false}${0}${raw('<b>')}`.value, '0<b>');
  });
});
