/**
 * Private table names never reach anonymous or analyst viewers of health, whatever characters they hold:
 * problems carry their table as data and are removed by it, never by searching the text for a name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import type { AdaConfig } from '../../../config/index.ts';
import { evaluateHealth, evolveHealth, healthProjection } from '../../../pipeline/index.ts';
import type { HealthReport, HealthState } from '../../../pipeline/index.ts';
import { adaApp } from '../../../portal/app.ts';
import { startGateway, TestClient } from './harness.ts';
import { mulberry32 } from '../../helpers/random.ts';

const ALPHABET = [...' ()[]{}-_.,;:!?\'"€$%&*+/\\|<>=~^#@`', ...'äöüßéèçñ', ...'зарплатаБОНУС', ...'給与賞与データ', ...'αβγδ', ...'مرتب', ...'payroll'];

/** A name of 6 to 14 characters from punctuation, spaces and several scripts, starting and ending anywhere. */
function generatedName(next: () => number): string {
  const n = 6 + Math.floor(next() * 9);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)]!;
  return s;
}

const FIXED_PRIVATE = ['payroll (2025)', '-salaries-', '€bonus', 'Зарплата 2025', '給与 データ', '(secret)', '[hr] bonus.', '$pay$'];
/** Public names that are parts or neighbours of private ones: they must stay visible. */
const PUBLIC = ['payroll', 'salaries', 'bonus', 'orders'];

function names(seed: number): { privates: string[]; publics: string[] } {
  const next = mulberry32(seed);
  const privates = new Set(FIXED_PRIVATE);
  while (privates.size < FIXED_PRIVATE.length + 40) {
    const name = generatedName(next);
    if (name.trim() !== '' && !PUBLIC.some((p) => name === p)) privates.add(name);
  }
  return { privates: [...privates], publics: PUBLIC };
}

function config(privates: string[], publics: string[]): AdaConfig {
  const table = (name: string, isPrivate: boolean): unknown => ({ name, id: `in.c-x.${name}`, private: isPrivate });
  const instance = { instance: { name: 'Test', subtitle: '' }, auth: { mode: 'oidc', allowedDomain: 'example.com', webappSecretKey: 'x'.repeat(48), allowedEmails: [] }, server: {}, admins: [], datasets: {}, catalog: { categories: {}, order: [] } };
  return { instance, tables: [...privates.map((n) => table(n, true)), ...publics.map((n) => table(n, false))], secrets: [] } as unknown as AdaConfig;
}

/** Every table's last sync failed with an error text that names the table, so a name could leak through text too. */
function failingReport(cfg: AdaConfig): HealthReport {
  let state: HealthState = healthProjection.initialState();
  let position = 0;
  for (const t of cfg.tables) {
    state = evolveHealth(state, {
      type: 'SyncFailed', v: 1, id: `e${++position}`, position, at: '2026-12-01T00:00:00.000Z', source: 'test',
      data: { runId: `r${position}`, table: t.name, error: { code: 'SOURCE_DOWN', message: `reading ${t.name} failed` }, durationMs: 1 },
    });
  }
  return evaluateHealth(state, { config: cfg, specs: [], now: new Date('2026-12-01T01:00:00.000Z'), timersActive: false, head: position, projections: {} });
}

function assertNoPrivateName(text: string, privates: string[], where: string): void {
  for (const name of privates) assert.ok(!text.includes(name), `${where} names the private table ${JSON.stringify(name)}: ${text.slice(0, 300)}`);
}

describe('health hides private tables by structure', () => {
  for (const seed of [1, 2, 3]) {
    it(`GET /health: anonymous and analyst viewers get no private name, privileged see all (seed ${seed})`, async (t) => {
      const { privates, publics } = names(seed);
      const cfg = config(privates, publics);
      const report = failingReport(cfg);
      assert.equal(report.problems.filter((p) => p.code === 'TABLE_SYNC_FAILED').length, privates.length + publics.length);
      const app = Fastify({ logger: false });
      t.after(() => app.close());
      const roles: Record<string, 'analyst' | 'privileged' | 'admin'> = { 'tok-ann': 'analyst', 'tok-pat': 'privileged', 'tok-root': 'admin' };
      await app.register(adaApp({ config: cfg, health: async () => report, authenticate: (c) => (c.token && roles[c.token] ? { name: c.token, role: roles[c.token]! } : undefined) }));
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as { port: number };
      const get = async (token?: string): Promise<{ text: string; body: HealthReport }> => {
        const res = await fetch(`http://127.0.0.1:${port}/health`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
        assert.equal(res.status, 503);
        const text = await res.text();
        return { text, body: JSON.parse(text) as HealthReport };
      };
      for (const token of [undefined, 'tok-ann']) {
        const { text, body } = await get(token);
        assertNoPrivateName(text, privates, `/health for ${token ?? 'anonymous'}`);
        assert.deepEqual(Object.keys(body.checks.tables).sort(), [...publics].sort());
        for (const p of publics) assert.ok(body.reasons.includes(`table ${p}: last sync failed: reading ${p} failed`), `${p} stays visible`);
        const hidden = report.problems.filter((p) => p.table !== undefined && privates.includes(p.table)).length;
        assert.ok(hidden >= privates.length);
        assert.ok(body.reasons.includes(`${hidden} problems with restricted tables`), body.reasons.join('\n'));
        assert.deepEqual(body.reasons, body.problems.map((p) => p.message));
      }
      for (const token of ['tok-pat', 'tok-root']) {
        const { body } = await get(token);
        assert.equal(Object.keys(body.checks.tables).length, privates.length + publics.length);
        for (const name of privates) assert.ok(body.problems.some((p) => p.table === name), `${token} sees ${name}`);
      }
    });
  }

  it('websocket HealthChanged: analysts, privileged and admins all get a text naming no private table', async (t) => {
    const { privates, publics } = names(7);
    const cfg = config(privates, publics);
    const report = failingReport(cfg);
    const h = await startGateway(t, { tables: cfg.tables });
    const clients = await Promise.all(['tok-ann', 'tok-pat', 'tok-admin'].map(async (token) => (await TestClient.login(t, h.wsUrl, { token })).client));
    await h.log.append({ type: 'HealthChanged', v: 2, data: { status: report.status, previous: 'healthy', reasons: report.reasons, problems: report.problems } });
    for (const c of clients) {
      const [n] = await c.notificationsCount(1);
      assertNoPrivateName(JSON.stringify(n), privates, 'the health notification');
      for (const p of publics) assert.ok(n!.message.includes(`table ${p}: last sync failed`), n!.message);
      const hidden = report.problems.filter((p) => p.table !== undefined && privates.includes(p.table)).length;
      assert.match(n!.message, new RegExp(`: [^:]*${hidden} problems with restricted tables\\.$`));
    }
  });
});
