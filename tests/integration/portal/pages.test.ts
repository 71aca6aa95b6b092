import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';
import { csvInstance } from '../../helpers/instance.ts';
import type { TestInstance } from '../../helpers/instance.ts';
import { openPortal } from '../../helpers/portal.ts';
import type { TestPortal } from '../../helpers/portal.ts';
import { escapeHtml } from '../../../portal/views/html.ts';
import { mulberry32 } from '../../helpers/random.ts';
import { KEYS, PRIVATE_KEY, REFUSED_KEYS } from '../../unit/access/ssh-keys.ts';

const ALPHABETS = ['abcxyz', 'ÀÉÎõüçñ', 'заказыЖЩ', 'αβγΔΩ', '顧客注文表', ' .,-&\'"()<>!?+=#%', '0123456789'];

/** Private table names of punctuation, spaces and non-Latin letters (safe as a single path segment, at least 8 characters). */
function privateNames(seed: number, count: number): string[] {
  const rnd = mulberry32(seed);
  const names = new Set<string>();
  while (names.size < count) {
    let s = 'Ж';
    for (let i = 0; i < 10; i++) {
      const alphabet = ALPHABETS[Math.floor(rnd() * ALPHABETS.length)]!;
      s += alphabet[Math.floor(rnd() * alphabet.length)];
    }
    names.add(`${s.trim()}q`);
  }
  return [...names];
}

const SEED = Number(process.env.PORTAL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SECRET_NAMES = privateNames(SEED, 3);

function tablesYaml(): string {
  const pub = `  - id: csv.shop.orders
    name: orders
    description: Orders of the shop
    file: orders.csv
    primary_key: [id]
    columns:
      - {name: id, type: INTEGER, description: Order id}
      - {name: amount, type: DOUBLE}
      - {name: status, type: VARCHAR}
`;
  return pub + SECRET_NAMES.map((n, i) => `  - id: csv.finance.secret${i}
    name: ${JSON.stringify(n)}
    description: Restricted figures ${i}
    file: secret${i}.csv
    private: true
`).join('');
}

/** Every form in which a name could appear in a body. */
function forms(name: string): string[] {
  return [name, escapeHtml(name), JSON.stringify(name).slice(1, -1), encodeURIComponent(name)];
}

function assertAbsent(body: string, where: string): void {
  for (const n of SECRET_NAMES) {
    for (const f of forms(n)) assert.ok(!body.includes(f), `${where} mentions the private table ${JSON.stringify(n)} (seed ${SEED})`);
  }
  assert.ok(!body.includes('Restricted figures'), `${where} shows a private table's description (seed ${SEED})`);
}

describe(`portal pages and APIs (seed ${SEED})`, { timeout: 180_000 }, () => {
  let inst: TestInstance;
  let portal: TestPortal;
  const tokens: Record<string, string> = {};
  const as = (who: string) => (who === 'anonymous' ? {} : { authorization: `Bearer ${tokens[who]}` });

  before(async () => {
    const t = { after: (fn: () => unknown) => cleanups.push(fn) };
    inst = await csvInstance(t, tablesYaml(), 'datasets:\n  sales:\n    label: Sales\n  web:\n    label: Web\n    requires: [sales]\n');
    await inst.writeCsv('orders.csv', 'id,amount,status\n1,10.5,open\n2,20,shipped\n3,7.25,open\n');
    for (let i = 0; i < SECRET_NAMES.length; i++) await inst.writeCsv(`secret${i}.csv`, 'id,limit\n1,100\n2,200\n');
    await mkdir(path.join(inst.configDir, 'metrics'));
    await writeFile(path.join(inst.configDir, 'metrics', 'revenue.yml'), 'name: Revenue\ndescription: Sum of amounts\ntables: [orders]\nsql: SELECT sum(amount) FROM orders\n');
    await writeFile(path.join(inst.configDir, 'metrics', 'exposure.yml'), `name: Exposure\ndescription: Credit exposure\ntables: [${JSON.stringify(SECRET_NAMES[0])}]\nsql: SELECT 1\n`);
    const sync = await runCli(['sync', ...inst.flags]);
    assert.equal(sync.code, 0, sync.stdout + sync.stderr);
    for (const [name, flag] of [['bob', []], ['carol', ['--private']], ['rita', ['--admin']]] as const) {
      const added = await runCli(['analyst', 'add', name, ...flag, ...inst.flags]);
      assert.equal(added.code, 0, added.stderr);
      tokens[name] = (await runCli(['analyst', 'token', name, ...inst.flags])).stdout.trim();
    }
    portal = await openPortal(t, { configDir: inst.configDir, dataDir: inst.dataDir });
  });
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  const PAGES = ['/', '/catalog', '/catalog/orders', '/metrics', '/status', '/events', '/events?type=TablePublished', '/account'];
  const APIS = ['/api/dashboard', '/api/catalog', '/api/catalog/orders', '/api/metrics', '/api/health', '/api/events', '/api/events?type=SyncStarted', '/api/account'];

  it('anonymous callers are sent to sign in (pages) or get 401 (APIs)', async () => {
    for (const url of [...PAGES, '/admin']) {
      const res = await portal.app.inject({ url });
      assert.equal(res.statusCode, 302, url);
      assert.match(String(res.headers.location), /^\/signin\?next=/, url);
    }
    for (const url of [...APIS, '/api/admin']) {
      const res = await portal.app.inject({ url });
      assert.equal(res.statusCode, 401, url);
      assert.equal(res.json().code, 'UNAUTHENTICATED');
    }
    for (const [method, url] of [['POST', '/api/account/tokens'], ['POST', '/api/admin/sync'], ['DELETE', '/api/account/tokens/0123456789abcdef']] as const) {
      assert.equal((await portal.app.inject({ method, url, payload: {} })).statusCode, 401, url);
    }
  });

  it('every page and API answers an analyst, and admin ones answer 403', async () => {
    for (const url of [...PAGES, ...APIS]) {
      const res = await portal.app.inject({ url, headers: as('bob') });
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
    }
    assert.equal((await portal.app.inject({ url: '/admin', headers: as('bob') })).statusCode, 403);
    assert.equal((await portal.app.inject({ url: '/api/admin', headers: as('bob') })).json().code, 'FORBIDDEN');
    assert.equal((await portal.app.inject({ method: 'POST', url: '/api/admin/sync', headers: as('bob'), payload: { tables: ['orders'] } })).statusCode, 403);
    assert.equal((await portal.app.inject({ url: '/admin', headers: as('rita') })).statusCode, 200);
    assert.equal((await portal.app.inject({ url: '/api/admin', headers: as('rita') })).statusCode, 200);
  });

  it('private tables are absent for an analyst on every page and API, events included, and present for privileged analysts', async () => {
    const urls = [...PAGES, ...APIS, '/health', ...SECRET_NAMES.flatMap((n) => [`/api/catalog?q=${encodeURIComponent(n.slice(0, 4))}`, `/events?table=${encodeURIComponent(n)}`, `/api/events?table=${encodeURIComponent(n)}`])];
    for (const url of urls) assertAbsent((await portal.app.inject({ url, headers: as('bob') })).body, url);
    for (const n of SECRET_NAMES) {
      // A search for the name finds nothing (the page repeats the query itself, nothing more).
      assert.equal(((await portal.app.inject({ url: `/api/catalog?q=${encodeURIComponent(n)}`, headers: as('bob') })).json() as { total: number }).total, 0);
      const search = (await portal.app.inject({ url: `/catalog?q=${encodeURIComponent(n)}`, headers: as('bob') })).body;
      assert.match(search, /0 tables match/);
      assert.ok(!search.includes(`data-table="${escapeHtml(n)}"`));
      assert.equal((await portal.app.inject({ url: `/api/catalog/${encodeURIComponent(n)}`, headers: as('bob') })).statusCode, 404);
      const page = await portal.app.inject({ url: `/catalog/${encodeURIComponent(n)}`, headers: as('bob') });
      assert.equal(page.statusCode, 404);
    }
    const head = portal.broker.log.head;
    for (let p = 1; p <= head; p++) {
      const res = await portal.app.inject({ url: `/api/events/${p}`, headers: as('bob') });
      assertAbsent(res.body, `/api/events/${p}`);
      assertAbsent((await portal.app.inject({ url: `/events/${p}`, headers: as('bob') })).body, `/events/${p}`);
    }
    const metrics = (await portal.app.inject({ url: '/api/metrics', headers: as('bob') })).json() as { metrics: Array<{ name: string }> };
    assert.deepEqual(metrics.metrics.map((m) => m.name), ['Revenue'], 'a metric over a private table is absent');

    const full = (await portal.app.inject({ url: '/api/catalog', headers: as('carol') })).json() as { categories: Array<{ tables: Array<{ name: string }> }> };
    const names = full.categories.flatMap((c) => c.tables.map((t) => t.name));
    for (const n of SECRET_NAMES) assert.ok(names.includes(n), `a privileged analyst sees ${n}`);
    const page = (await portal.app.inject({ url: `/catalog/${encodeURIComponent(SECRET_NAMES[0]!)}`, headers: as('carol') }));
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(escapeHtml(SECRET_NAMES[0]!)));
  });

  it('the catalog searches names, descriptions and columns; a table page has its schema, profile and SQL', async () => {
    const byColumn = (await portal.app.inject({ url: '/api/catalog?q=AMOUNT', headers: as('bob') })).json() as { total: number };
    assert.equal(byColumn.total, 1);
    const none = (await portal.app.inject({ url: '/api/catalog?q=nothing-like-this', headers: as('bob') })).json() as { total: number };
    assert.equal(none.total, 0);
    const detail = (await portal.app.inject({ url: '/api/catalog/orders', headers: as('bob') })).json() as { table: { rows: number; columns: Array<{ name: string; description?: string }> }; sql: string; history: unknown[]; metrics: Array<{ name: string }> };
    assert.equal(detail.table.rows, 3);
    assert.deepEqual(detail.table.columns.map((c) => c.name), ['id', 'amount', 'status']);
    assert.equal(detail.table.columns[0]!.description, 'Order id');
    assert.match(detail.sql, /read_parquet/);
    assert.equal(detail.history.length, 1);
    assert.deepEqual(detail.metrics.map((m) => m.name), ['Revenue']);
    const html = (await portal.app.inject({ url: '/catalog/orders', headers: as('bob') })).body;
    assert.match(html, /<svg[^>]+class="timeline"/);
  });

  it('pages send a strict CSP, no inline script, and escape what they show', async () => {
    const res = await portal.app.inject({ url: '/catalog?q=%3Cscript%3Ealert(1)%3C/script%3E', headers: as('bob') });
    assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
    assert.ok(!res.body.includes('<script>alert(1)</script>'));
    assert.ok(res.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!/<script(?![^>]*\ssrc=)[^>]*>/.test(res.body), 'every script has a src');
    assert.equal((await portal.app.inject({ url: '/assets/live.js' })).statusCode, 200);
  });

  it('catalog and health answers carry an ETag and security headers; a matching If-None-Match gets 304, per audience', async () => {
    const first = await portal.app.inject({ url: '/api/catalog', headers: as('bob') });
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    assert.equal(first.headers['cache-control'], 'private, no-cache');
    assert.match(String(first.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(first.headers['x-content-type-options'], 'nosniff');
    const again = await portal.app.inject({ url: '/api/catalog', headers: { ...as('bob'), 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const privileged = await portal.app.inject({ url: '/api/catalog', headers: { ...as('carol'), 'if-none-match': etag } });
    assert.equal(privileged.statusCode, 200, 'another audience, another answer');
    assert.notEqual(privileged.headers.etag, etag);
    assert.deepEqual(privileged.json(), JSON.parse(privileged.body));
    const searched = await portal.app.inject({ url: '/api/catalog?q=nothing-like-this', headers: { ...as('bob'), 'if-none-match': etag } });
    assert.equal(searched.statusCode, 200, 'another search, another answer');
    assert.equal((searched.json() as { total: number }).total, 0);
    assert.equal((await portal.app.inject({ url: '/api/catalog?q=orders', headers: { ...as('bob'), 'if-none-match': etag } })).statusCode, 304, 'the same bytes, the same ETag');
    assert.equal((await portal.app.inject({ url: '/api/catalog', headers: { 'if-none-match': etag } })).statusCode, 401, 'an ETag is no credential');
    const health = await portal.app.inject({ url: '/health' });
    assert.ok(health.headers.etag);
    assert.match(String(health.headers['content-security-policy']), /default-src 'self'/);
  });

  it('tokens through the API: created (shown once), listed by id, revoked; subscriptions check requires', async () => {
    const created = await portal.app.inject({ method: 'POST', url: '/api/account/tokens', headers: as('bob') });
    assert.equal(created.statusCode, 201);
    const { token, tokenId } = created.json() as { token: string; tokenId: string };
    assert.match(token, /^ada_[0-9a-f]{16}_/);
    const account = (await portal.app.inject({ url: '/api/account', headers: { authorization: `Bearer ${token}` } })).json() as { name: string; tokens: Array<{ tokenId: string }> };
    assert.equal(account.name, 'bob');
    assert.ok(account.tokens.some((t) => t.tokenId === tokenId));
    assert.ok(!JSON.stringify(account).includes(token.slice(22)), 'the secret part is never listed');
    assert.equal((await portal.app.inject({ method: 'DELETE', url: `/api/account/tokens/${tokenId}`, headers: as('bob') })).statusCode, 204);
    assert.equal((await portal.app.inject({ url: '/api/account', headers: { authorization: `Bearer ${token}` } })).statusCode, 401);

    const bad = await portal.app.inject({ method: 'POST', url: '/api/account/subscriptions', headers: as('bob'), payload: { datasets: { web: true } } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /requires Sales/);
    assert.equal((await portal.app.inject({ method: 'POST', url: '/api/account/subscriptions', headers: as('bob'), payload: { datasets: { nope: true } } })).statusCode, 400);
    const ok = await portal.app.inject({ method: 'POST', url: '/api/account/subscriptions', headers: as('bob'), payload: { datasets: { web: true, sales: true } } });
    assert.deepEqual(ok.json(), { datasets: ['sales', 'web'] });
    const dropSales = await portal.app.inject({ method: 'POST', url: '/api/account/subscriptions', headers: as('bob'), payload: { datasets: { sales: false } } });
    assert.equal(dropSales.statusCode, 400, 'web still requires sales');
    const dash = (await portal.app.inject({ url: '/api/dashboard', headers: as('bob') })).json() as { datasets: Array<{ key: string; subscribed: boolean }> };
    assert.deepEqual(dash.datasets.filter((d) => d.subscribed).map((d) => d.key), ['sales', 'web']);
  });

  it('an analyst sets, replaces and removes their SSH key through the API; bad keys get clear errors; admins see the fingerprint', async () => {
    const put = (who: string, sshKey: unknown) => portal.app.inject({ method: 'PUT', url: '/api/account/ssh-key', headers: as(who), payload: { sshKey } });
    const set = await put('bob', KEYS.ed25519.text);
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(set.json(), { changed: true, sshKeyFingerprint: KEYS.ed25519.fingerprint, sshKeyType: 'ssh-ed25519', bits: 256 });
    assert.equal((await put('bob', KEYS.ed25519.text)).json().changed, false, 'the same key again changes nothing');
    const account = (await portal.app.inject({ url: '/api/account', headers: as('bob') })).json() as { sshKeyFingerprint?: string; sshKey?: string };
    assert.equal(account.sshKeyFingerprint, KEYS.ed25519.fingerprint);
    assert.equal(account.sshKey, KEYS.ed25519.text);
    assert.match((await portal.app.inject({ url: '/account', headers: as('bob') })).body, new RegExp(escapeHtml(KEYS.ed25519.fingerprint).replace(/[+/]/g, '\\$&')));

    for (const [key, status, code, message] of [
      ['ssh-ed25519 AAAA!!', 400, 'INVALID_SSH_KEY', /base64/],
      [REFUSED_KEYS.rsa1024, 400, 'INVALID_SSH_KEY', /1024 bits; at least 2048/],
      [PRIVATE_KEY, 400, 'PRIVATE_KEY_REFUSED', /PRIVATE key/],
      [`ssh-ed25519 ${'A'.repeat(9000)}`, 400, 'INVALID_SSH_KEY', /longer than/],
      [KEYS.ed25519.text, 409, 'SSH_KEY_IN_USE', /belongs to bob/],
    ] as const) {
      const res = await put('carol', key);
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().code, code);
      assert.match(res.json().message, message);
      assert.ok(!res.body.includes('b3BlbnNzaC1rZXktdjE'), 'a private key is never echoed');
    }
    assert.equal((await put('carol', 'x'.repeat(20_000))).statusCode, 400, 'an oversized body is refused by the schema');
    assert.equal((await put('anonymous', KEYS.ecdsa256.text)).statusCode, 401);

    const replaced = await put('bob', KEYS.ecdsa256.text);
    assert.equal(replaced.json().sshKeyFingerprint, KEYS.ecdsa256.fingerprint);
    const admin = (await portal.app.inject({ url: '/api/admin', headers: as('rita') })).json() as { analysts: Array<{ name: string; sshKeyFingerprint?: string }> };
    assert.equal(admin.analysts.find((a) => a.name === 'bob')?.sshKeyFingerprint, KEYS.ecdsa256.fingerprint);
    assert.match((await portal.app.inject({ url: '/admin', headers: as('rita') })).body, /class="fingerprint">SHA256:/);
    const changes = (await portal.app.inject({ url: '/api/events?type=AnalystSshKeyChanged', headers: as('rita') })).json() as { events: Array<{ data: { name: string; by: string } }> };
    assert.deepEqual(changes.events.map((e) => e.data.name), ['bob', 'bob']);
    assert.equal(changes.events[0]!.data.by, 'bob');
    const hidden = (await portal.app.inject({ url: '/api/events?type=AnalystSshKeyChanged', headers: as('bob') })).json() as { events: unknown[] };
    assert.deepEqual(hidden.events, [], 'access events are for admins');

    const removed = await portal.app.inject({ method: 'DELETE', url: '/api/account/ssh-key', headers: as('bob') });
    assert.deepEqual(removed.json(), { changed: true });
    assert.equal(((await portal.app.inject({ url: '/api/account', headers: as('bob') })).json() as { sshKeyFingerprint?: string }).sshKeyFingerprint, undefined);
    assert.equal((await put('carol', KEYS.ed25519.text)).statusCode, 200, 'a removed key is free for someone else');
  });

  it('an admin queues a sync, adds and removes analysts; an unknown table is refused', async () => {
    const queued = await portal.app.inject({ method: 'POST', url: '/api/admin/sync', headers: as('rita'), payload: { tables: ['orders'] } });
    assert.equal(queued.statusCode, 202);
    assert.deepEqual(portal.synced.at(-1), ['orders']);
    assert.equal((await portal.app.inject({ method: 'POST', url: '/api/admin/sync', headers: as('rita'), payload: { tables: ['nope'] } })).statusCode, 400);
    assert.equal((await portal.app.inject({ method: 'POST', url: '/api/admin/analysts', headers: as('rita'), payload: { name: 'dave', role: 'analyst' } })).statusCode, 201);
    assert.equal((await portal.app.inject({ method: 'POST', url: '/api/admin/analysts', headers: as('rita'), payload: { name: 'dave' } })).statusCode, 409);
    assert.equal((await portal.app.inject({ method: 'DELETE', url: '/api/admin/analysts/dave', headers: as('rita') })).statusCode, 204);
    assert.equal((await portal.app.inject({ method: 'DELETE', url: '/api/admin/analysts/dave', headers: as('rita') })).statusCode, 404);
  });

  it('auth.mode dev signs the local machine in as the admin and refuses any other address', async () => {
    const config = portal.broker.config;
    const dev = await openPortal({ after: (fn: () => unknown) => cleanups.push(fn) }, { configDir: inst.configDir, dataDir: `${inst.dataDir}-dev` }, {
      config: { ...config, instance: { ...config.instance, auth: { ...config.instance.auth, mode: 'dev' } } },
    });
    const remote = await dev.app.inject({ url: '/signin', remoteAddress: '10.1.2.3' });
    assert.equal(remote.statusCode, 403);
    assert.equal(remote.json().code, 'FORBIDDEN');
    const local = await dev.app.inject({ url: '/signin', remoteAddress: '127.0.0.1' });
    assert.equal(local.statusCode, 302);
    const cookie = String(local.headers['set-cookie']).split(';')[0]!;
    const me = await dev.app.inject({ url: '/api/account', remoteAddress: '::1', headers: { cookie } });
    assert.deepEqual([me.statusCode, (me.json() as { name: string }).name], [200, 'dev-admin']);
    assert.equal((await dev.app.inject({ url: '/api/account', remoteAddress: '192.168.0.9', headers: { cookie } })).statusCode, 403, 'a session is no pass from elsewhere');
  });

  // Last: it publishes a table. Repeated requests are answered from states at hand, without waiting; a new event must still show at once.
  it('the catalog answer follows the log: a publish shows in the next answer, answered at once or not', async () => {
    const orders = async (): Promise<number | undefined> => {
      const body = (await portal.app.inject({ url: '/api/catalog', headers: as('bob') })).json() as { categories: Array<{ tables: Array<{ name: string; rows: number }> }> };
      return body.categories.flatMap((c) => c.tables).find((t) => t.name === 'orders')?.rows;
    };
    const before = await orders();
    assert.equal(await orders(), before, 'the same state, the same answer');
    for (const rows of [987_654, 987_655]) {
      await portal.broker.log.append({ type: 'TablePublished', v: 1, data: { runId: `run-orders-${rows}`, table: 'orders', folder: 'shop', strategy: 'full_refresh', files: [], rows, bytes: rows * 10, schema: [], contentHash: `h${rows}` } });
      assert.equal(await orders(), rows);
      assert.equal(await orders(), rows, 'and again, from the state at hand');
    }
  });
});
