/** My account (`/account`, `/api/account`): personal tokens (create, shown once; list; revoke), SSH key (set, replace, remove), dataset subscriptions. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adaError } from '../../events/index.ts';
import { decideChangeSshKey, decideIssueToken, decideRevokeTokens, MAX_SSH_KEY_CHARS, parseSshPublicKey } from '../../pipeline/index.ts';
import { requireRole } from '../auth-plugin.ts';
import { html } from '../views/html.ts';
import type { SafeHtml } from '../views/html.ts';
import { formatTime } from '../views/format.ts';
import { csrfField } from '../views/layout.ts';
import type { WebDeps } from '../web-deps.ts';
import { WEB_LIMITS } from '../web-deps.ts';
import { decideSubscriptions } from '../data/subscriptions.ts';
import { apiWriteGuard, contextOf, pageAuth, principalOf, sendPage, serverUrl } from './context.ts';
import { flash, takeFlash } from './flash.ts';
import { accountSchema, errorSchema } from './schemas.ts';
import { PortalErrorCode } from '../errors.ts';

declare module '@fastify/secure-session' {
  interface SessionData {
    newToken: string;
  }
}

/** The caller's account. */
export async function accountData(deps: WebDeps, req: FastifyRequest) {
  const p = principalOf(req);
  const state = await deps.access();
  const a = Object.hasOwn(state.analysts, p.name) ? state.analysts[p.name] : undefined;
  const mine = new Set(a?.datasets ?? []);
  return {
    name: p.name,
    role: p.role,
    recorded: Boolean(a),
    ...(a?.email ? { email: a.email } : {}),
    ...(a?.sshKeyFingerprint ? { sshKeyFingerprint: a.sshKeyFingerprint } : {}),
    ...(a?.sshKey ? { sshKey: a.sshKey, sshKeyType: a.sshKey.split(' ')[0]! } : {}),
    tokens: Object.entries(a?.tokens ?? {}).map(([tokenId, t]) => ({ tokenId, issuedAt: t.issuedAt })).sort((x, y) => y.issuedAt.localeCompare(x.issuedAt)),
    datasets: Object.values(deps.config.instance.datasets).map((d) => ({ key: d.key, label: d.label, description: d.description ?? '', sizeHint: d.sizeHint ?? '', requires: d.requires, subscribed: mine.has(d.key) })),
  };
}

function appendOrFail(deps: WebDeps) {
  if (!deps.append) throw adaError(PortalErrorCode.unavailable, 'this server cannot record changes (read-only)');
  return deps.append;
}

/** Issues a token to the caller; the token is in the answer only. */
async function issueToken(deps: WebDeps, req: FastifyRequest) {
  const append = appendOrFail(deps);
  const d = decideIssueToken(await deps.access(), deps.config, principalOf(req).name);
  await append({ ...d.event, key: d.idempotencyKey, source: 'portal' });
  return { token: d.token.token, tokenId: d.token.tokenId };
}

async function revokeToken(deps: WebDeps, req: FastifyRequest, tokenId: string) {
  const append = appendOrFail(deps);
  const d = decideRevokeTokens(await deps.access(), deps.config, principalOf(req).name, tokenId);
  if (d) await append({ ...d.event, key: d.idempotencyKey, source: 'portal' });
}

/** Sets, replaces or (with undefined) removes the caller's SSH key; `changed` is false when it already was so. */
async function changeSshKey(deps: WebDeps, req: FastifyRequest, sshKey: string | undefined) {
  const name = principalOf(req).name;
  const d = decideChangeSshKey(await deps.access(), deps.config, name, sshKey, name);
  if (d) await appendOrFail(deps)({ ...d.event, key: d.idempotencyKey, source: 'portal' });
  const key = d ? d.sshKey : sshKey !== undefined ? parseSshPublicKey(sshKey) : undefined;
  return { changed: Boolean(d), ...(key ? { sshKeyFingerprint: key.fingerprint, sshKeyType: key.type, bits: key.bits } : {}) };
}

async function changeSubscriptions(deps: WebDeps, req: FastifyRequest, change: unknown): Promise<string[]> {
  const name = principalOf(req).name;
  const state = await deps.access();
  const a = Object.hasOwn(state.analysts, name) ? state.analysts[name] : undefined;
  if (!a) throw adaError(PortalErrorCode.conflict, `${name} is not a recorded analyst, so there is nowhere to keep subscriptions; an admin can add you with \`ada analyst add ${name}\``);
  const d = decideSubscriptions(name, a.datasets ?? [], change, deps.config.instance.datasets);
  const append = appendOrFail(deps);
  for (const e of d.events) await append({ ...e, source: 'portal' });
  return d.datasets;
}

/** Registers the account page, its forms and its APIs. */
export async function accountRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const tokenLimit = { rateLimit: { max: WEB_LIMITS.tokensPerMinute, timeWindow: 60_000 } };
  const tokenParams = { type: 'object', properties: { tokenId: { type: 'string', pattern: '^[0-9a-f]{16}$' } }, required: ['tokenId'] } as const;
  const write = apiWriteGuard(app);
  // Twice the longest key accepted: a longer body is refused by the schema, a shorter one too long gets the key's own clear error.
  const sshKeyBody = { type: 'object', properties: { sshKey: { type: 'string', maxLength: 2 * MAX_SSH_KEY_CHARS } }, required: ['sshKey'], additionalProperties: false } as const;
  const sshKeyAnswer = { type: 'object', properties: { changed: { type: 'boolean' }, sshKeyFingerprint: { type: 'string' }, sshKeyType: { type: 'string' }, bits: { type: 'number' } }, required: ['changed'] } as const;

  app.get('/api/account', { onRequest: requireRole(), schema: { response: { 200: accountSchema } } }, async (req) => accountData(deps, req));
  app.post('/api/account/tokens', { onRequest: requireRole(), preHandler: write, config: tokenLimit, schema: { response: { 201: { type: 'object', properties: { token: { type: 'string' }, tokenId: { type: 'string' } }, required: ['token', 'tokenId'] }, 409: errorSchema } } }, async (req, reply) => {
    return reply.code(201).header('cache-control', 'no-store').send(await issueToken(deps, req));
  });
  app.delete('/api/account/tokens/:tokenId', { onRequest: requireRole(), preHandler: write, schema: { params: tokenParams, response: { 204: { type: 'null' }, 404: errorSchema } } }, async (req, reply) => {
    await revokeToken(deps, req, (req.params as { tokenId: string }).tokenId);
    return reply.code(204).send();
  });
  app.put('/api/account/ssh-key', { onRequest: requireRole(), preHandler: write, schema: { body: sshKeyBody, response: { 200: sshKeyAnswer, 400: errorSchema, 404: errorSchema, 409: errorSchema } } }, async (req) => changeSshKey(deps, req, (req.body as { sshKey: string }).sshKey));
  app.delete('/api/account/ssh-key', { onRequest: requireRole(), preHandler: write, schema: { response: { 200: sshKeyAnswer, 404: errorSchema } } }, async (req) => changeSshKey(deps, req, undefined));
  app.post('/api/account/subscriptions', {
    onRequest: requireRole(), preHandler: write,
    schema: { body: { type: 'object', properties: { datasets: { type: 'object' } }, required: ['datasets'] }, response: { 200: { type: 'object', properties: { datasets: { type: 'array', items: { type: 'string' } } } }, 400: errorSchema } },
  }, async (req) => ({ datasets: await changeSubscriptions(deps, req, (req.body as { datasets: unknown }).datasets) }));

  const render = async (req: FastifyRequest, reply: FastifyReply, shown?: SafeHtml) => {
    const d = await accountData(deps, req);
    const csrf = contextOf(deps, req, reply).csrf;
    const body = html`
${takeFlash(req)}
${shown ?? ''}
<div class="grid two top">
  <div class="stack">
    <section class="card"><h2>Profile</h2><dl class="facts wide">
      <div><dt>name</dt><dd>${d.name}</dd></div>
      <div><dt>role</dt><dd>${d.role === 'privileged' ? 'privileged analyst (sees private tables)' : d.role}</dd></div>
      <div><dt>email</dt><dd>${d.email ?? '—'}</dd></div>
      <div><dt>SSH key</dt><dd data-testid="ssh-key">${d.sshKeyFingerprint ? html`<code>${d.sshKeyFingerprint}</code> <span class="muted">${d.sshKeyType}</span>` : html`<span class="muted">none</span>`}</dd></div>
    </dl></section>
    <section class="card" id="datasets"><h2>Dataset subscriptions</h2>
      ${d.datasets.length === 0 ? html`<p class="muted">This server has no datasets.</p>` : html`<form method="post" action="/account/subscriptions" class="stack">${csrfField(csrf)}
        ${d.datasets.map((x) => html`<label class="check"><input type="checkbox" name="datasets" value="${x.key}" ${x.subscribed ? html`checked` : ''}> <span><strong>${x.label}</strong> ${x.sizeHint ? html`<span class="muted">${x.sizeHint}</span>` : ''}<br><span class="muted">${x.description}${x.requires.length ? ` Requires ${x.requires.join(', ')}.` : ''}</span></span></label>`)}
        <p><button class="button" type="submit">Save subscriptions</button></p></form>`}
    </section>
  </div>
  <section class="card" id="ssh-key"><h2>SSH key</h2>
    ${d.recorded ? html`<p class="muted">Your public key lets you log in to the broker with SSH. Paste one line of your <code>.pub</code> file (<code>ssh-ed25519</code>, <code>ecdsa-sha2-nistp256/384/521</code>, or <code>ssh-rsa</code> of at least 2048 bits); never the private key.</p>
    <form method="post" action="/account/ssh-key" class="stack">${csrfField(csrf)}
      <label for="ssh-key-text">Public key</label>
      <textarea id="ssh-key-text" name="sshKey" rows="3" maxlength="${2 * MAX_SSH_KEY_CHARS}" spellcheck="false" autocomplete="off" placeholder="ssh-ed25519 AAAA… you@laptop" required>${d.sshKey ?? ''}</textarea>
      <p><button class="button" type="submit">${d.sshKey ? 'Replace the key' : 'Save the key'}</button></p>
    </form>
    ${d.sshKey ? html`<form method="post" action="/account/ssh-key/remove">${csrfField(csrf)}<button class="button danger small" type="submit">Remove the key</button></form>` : ''}`
    : html`<p class="muted">An SSH key needs an analyst record; an admin can add you with <code>ada analyst add ${d.name} --ssh-key …</code>.</p>`}
  </section>
</div>
<section class="card" id="tokens"><h2>Personal tokens</h2>
  <p class="muted">Tokens let <code>ada pull</code>, scripts and your assistant read the data as you. A token is shown once, when you create it.</p>
  ${d.recorded ? html`<form method="post" action="/account/tokens">${csrfField(csrf)}<button class="button primary" type="submit">Create a token</button></form>` : html`<p class="muted">Tokens need an analyst record; an admin can add you with <code>ada analyst add ${d.name}</code>.</p>`}
  <table class="data"><thead><tr><th>token id</th><th>created</th><th></th></tr></thead><tbody>
  ${d.tokens.length === 0 ? html`<tr><td colspan="3" class="muted">No tokens.</td></tr>` : ''}
  ${d.tokens.map((t) => html`<tr><td><code>${t.tokenId}</code></td><td>${formatTime(t.issuedAt)}</td><td class="num"><form method="post" action="/account/tokens/${t.tokenId}/revoke">${csrfField(csrf)}<button class="button danger small" type="submit">Revoke</button></form></td></tr>`)}
  </tbody></table>
</section>`;
    return sendPage(deps, req, reply, { title: 'My account', active: '/account', body });
  };

  app.get('/account', { onRequest: pageAuth(deps) }, async (req, reply) => {
    const token = req.session.get('newToken');
    if (!token) return render(req, reply);
    req.session.set('newToken', undefined);
    return render(req, reply, html`<div class="flash ok token-once" role="status"><p><strong>Your new token</strong> (copy it now: it is not shown again):</p><pre class="code"><code data-testid="new-token">${token}</code></pre><p class="muted">Use it with <code>ada login ${serverUrl(deps, req)}</code> or as <code>Authorization: Bearer …</code>.</p></div>`);
  });

  // Post/redirect/get: the new token rides in the encrypted session to the next page only, so a reload never creates another.
  app.post('/account/tokens', { onRequest: pageAuth(deps), preValidation: app.csrfProtection, config: tokenLimit }, async (req, reply) => {
    try {
      req.session.set('newToken', (await issueToken(deps, req)).token);
    } catch (err) {
      flash(req, 'error', (err as Error).message);
    }
    return reply.redirect('/account#tokens', 303);
  });

  app.post('/account/tokens/:tokenId/revoke', { onRequest: pageAuth(deps), preValidation: app.csrfProtection, schema: { params: tokenParams } }, async (req, reply) => {
    try {
      await revokeToken(deps, req, (req.params as { tokenId: string }).tokenId);
      flash(req, 'ok', 'Token revoked.');
    } catch (err) {
      flash(req, 'error', (err as Error).message);
    }
    return reply.redirect('/account#tokens', 303);
  });

  app.post('/account/ssh-key', { onRequest: pageAuth(deps), preValidation: app.csrfProtection }, async (req, reply) => {
    const text = (req.body as { sshKey?: unknown } | undefined)?.sshKey;
    try {
      if (typeof text !== 'string') throw adaError(PortalErrorCode.badRequest, 'paste one public key into the field');
      const r = await changeSshKey(deps, req, text);
      flash(req, 'ok', r.changed ? `SSH key saved: ${r.sshKeyFingerprint} (${r.sshKeyType}).` : 'That is already your SSH key.');
    } catch (err) {
      flash(req, 'error', (err as Error).message);
    }
    return reply.redirect('/account#ssh-key', 303);
  });

  app.post('/account/ssh-key/remove', { onRequest: pageAuth(deps), preValidation: app.csrfProtection }, async (req, reply) => {
    try {
      const r = await changeSshKey(deps, req, undefined);
      flash(req, 'ok', r.changed ? 'SSH key removed.' : 'You have no SSH key.');
    } catch (err) {
      flash(req, 'error', (err as Error).message);
    }
    return reply.redirect('/account#ssh-key', 303);
  });

  app.post('/account/subscriptions', { onRequest: pageAuth(deps), preValidation: app.csrfProtection }, async (req, reply) => {
    const form = (req.body ?? {}) as { datasets?: string | string[] };
    const checked = new Set(Array.isArray(form.datasets) ? form.datasets : form.datasets ? [form.datasets] : []);
    const change = Object.fromEntries(Object.keys(deps.config.instance.datasets).map((k) => [k, checked.has(k)]));
    for (const k of checked) if (!Object.hasOwn(change, k)) change[k] = true;
    try {
      const now = await changeSubscriptions(deps, req, change);
      flash(req, 'ok', now.length ? `Subscribed to ${now.join(', ')}.` : 'No subscriptions.');
    } catch (err) {
      flash(req, 'error', (err as Error).message);
    }
    return reply.redirect('/account#datasets', 303);
  });
}
