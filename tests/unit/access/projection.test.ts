import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdaEvent, RecordedEvent } from '../../../events/index.ts';
import {
  accessProjection, authenticateToken, canSeeTable, emptyAccess, generateToken, hashToken, principalOf, rolesOf, TOKEN_MEMO_LIMITS, tokenIdOf,
} from '../../../pipeline/projections/access/index.ts';
import type { AccessConfig, AccessState } from '../../../pipeline/projections/access/index.ts';
import { evolverOf } from '../../../pipeline/projection.ts';
import { KEYS } from './ssh-keys.ts';

/** Records events as the log would: positions from 1, one minute apart from 2026-01-01. */
function recorded(events: AdaEvent[]): RecordedEvent[] {
  return events.map((e, i) => ({
    ...e, id: `id-${i + 1}`, position: i + 1, source: 'test',
    at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  }) as RecordedEvent);
}

function fold(events: AdaEvent[], from: AccessState = emptyAccess()): AccessState {
  return recorded(events).reduce(evolverOf(accessProjection), from);
}

const noAdmins: AccessConfig = { instance: { admins: [] } };

const added = (name: string, role: 'analyst' | 'privileged' | 'admin' = 'analyst', extra: { email?: string; sshKey?: string } = {}): AdaEvent =>
  ({ type: 'AnalystAdded', v: 1, data: { name, role, ...extra } });
const removed = (name: string): AdaEvent => ({ type: 'AnalystRemoved', v: 1, data: { name } });
const issued = (name: string, token: { tokenId: string; hash: string }): AdaEvent => ({ type: 'TokenIssued', v: 1, data: { name, tokenId: token.tokenId, hash: token.hash } });
const revoked = (name: string, tokenId?: string): AdaEvent => ({ type: 'TokenRevoked', v: 1, data: tokenId === undefined ? { name } : { name, tokenId } });

describe('access projection: the fold', () => {
  it('records analysts with role, email, key fingerprint and when they were added', () => {
    const state = fold([added('alice', 'privileged', { email: 'alice@example.com', sshKey: KEYS.ed25519.text }), added('bob')]);
    assert.deepEqual(state, {
      analysts: {
        alice: {
          name: 'alice', role: 'privileged', email: 'alice@example.com', sshKey: KEYS.ed25519.text, sshKeyFingerprint: KEYS.ed25519.fingerprint,
          addedAt: '2026-01-01T00:00:00.000Z', generation: 1, tokens: {},
        },
        bob: { name: 'bob', role: 'analyst', addedAt: '2026-01-01T00:01:00.000Z', generation: 1, tokens: {} },
      },
      generations: { alice: 1, bob: 1 },
    });
  });

  it('keeps token hashes with their issue time, and revokes one or all', () => {
    const t1 = { tokenId: '1111111111111111', hash: 'a'.repeat(64) };
    const t2 = { tokenId: '2222222222222222', hash: 'b'.repeat(64) };
    const t3 = { tokenId: '3333333333333333', hash: 'c'.repeat(64) };
    let state = fold([added('alice'), issued('alice', t1), issued('alice', t2), issued('alice', t3)]);
    assert.deepEqual(state.analysts.alice!.tokens, {
      [t1.tokenId]: { hash: t1.hash, issuedAt: '2026-01-01T00:01:00.000Z' },
      [t2.tokenId]: { hash: t2.hash, issuedAt: '2026-01-01T00:02:00.000Z' },
      [t3.tokenId]: { hash: t3.hash, issuedAt: '2026-01-01T00:03:00.000Z' },
    });
    state = fold([revoked('alice', t2.tokenId)], state);
    assert.deepEqual(Object.keys(state.analysts.alice!.tokens), [t1.tokenId, t3.tokenId]);
    state = fold([revoked('alice')], state);
    assert.deepEqual(state.analysts.alice!.tokens, {});
  });

  it('drops a removed analyst with their tokens; a re-add starts fresh as a new generation', () => {
    const t = { tokenId: '1111111111111111', hash: 'a'.repeat(64) };
    const state = fold([added('alice', 'admin', { email: 'a@example.com' }), issued('alice', t), removed('alice')]);
    assert.deepEqual(state, { analysts: {}, generations: { alice: 1 } });
    const again = fold([added('alice')], state);
    assert.deepEqual(again.analysts.alice, { name: 'alice', role: 'analyst', addedAt: '2026-01-01T00:00:00.000Z', generation: 2, tokens: {} });
  });

  it('ignores events that do not fit: a second add, tokens or removals of absent analysts, repeated token ids', () => {
    const t = { tokenId: '1111111111111111', hash: 'a'.repeat(64) };
    const state = fold([
      added('alice', 'analyst'), added('alice', 'admin'),
      issued('ghost', t), revoked('ghost'), removed('ghost'),
      issued('alice', t), added('bob'), issued('bob', { ...t, hash: 'b'.repeat(64) }),
      revoked('alice', '9999999999999999'),
    ]);
    assert.equal(state.analysts.alice!.role, 'analyst');
    assert.equal(state.analysts.alice!.tokens[t.tokenId]!.hash, t.hash);
    assert.deepEqual(state.analysts.bob!.tokens, {});
    assert.equal(state.analysts.ghost, undefined);
  });

  it('leaves the state untouched by other events and never mutates the input', () => {
    const state = fold([added('alice')]);
    const frozen = structuredClone(state);
    const next = fold([{ type: 'TimerFired', v: 1, data: { timer: 't', tables: [], scheduledAt: '2026-01-01T00:00:00Z', catchUp: false } }, removed('alice')], state);
    assert.deepEqual(state, frozen);
    assert.deepEqual(next.analysts, {});
  });

  it('folds dataset subscriptions per analyst (sorted, idempotent), dropped with the analyst', () => {
    const sub = (analyst: string, dataset: string): AdaEvent => ({ type: 'DatasetSubscribed', v: 1, data: { name: analyst, dataset } });
    const unsub = (analyst: string, dataset: string): AdaEvent => ({ type: 'DatasetUnsubscribed', v: 1, data: { name: analyst, dataset } });
    const state = fold([added('ann'), sub('ann', 'web'), sub('ann', 'sales'), sub('ann', 'web'), sub('nobody', 'web'), unsub('ann', 'web')]);
    assert.deepEqual(state.analysts.ann!.datasets, ['sales']);
    assert.equal(state.analysts.nobody, undefined);
    assert.equal(fold([added('ann'), sub('ann', 'web'), removed('ann'), added('ann')]).analysts.ann!.datasets, undefined);
  });

  it('is declared as a checkpointed projection of the access and subscription events', () => {
    assert.equal(accessProjection.name, 'access');
    assert.equal(accessProjection.version, 3);
    assert.deepEqual([...accessProjection.handles].sort(), ['AnalystAdded', 'AnalystRemoved', 'AnalystSshKeyChanged', 'DatasetSubscribed', 'DatasetUnsubscribed', 'TokenIssued', 'TokenRevoked']);
    assert.notEqual(accessProjection.persistState, false);
    assert.equal(accessProjection.sink, undefined);
    assert.deepEqual(accessProjection.initialState(), emptyAccess());
  });
});

describe('tokens', () => {
  it('look like ada_<id>_<secret> with 32 bytes of base64url randomness, and are hashed whole', () => {
    const t = generateToken();
    assert.match(t.token, /^ada_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(t.token.slice(21), 'base64url').length, 32);
    assert.equal(tokenIdOf(t.token), t.tokenId);
    assert.equal(t.hash, hashToken(t.token));
    assert.match(t.hash, /^[0-9a-f]{64}$/);
    assert.notEqual(generateToken().token, t.token);
  });

  it('tokenIdOf rejects what is not a token', () => {
    for (const s of ['', 'ada_', 'ada_123_abc', `ada_${'g'.repeat(16)}_${'a'.repeat(43)}`, `ada_${'a'.repeat(16)}_${'a'.repeat(42)}`, `xda_${'a'.repeat(16)}_${'a'.repeat(43)}`, `ada_${'a'.repeat(16)}_${'a'.repeat(300)}`]) {
      assert.equal(tokenIdOf(s), undefined, s);
    }
  });
});

describe('authenticateToken', () => {
  const good = generateToken();
  const other = generateToken();
  const base = fold([added('alice', 'privileged', { email: 'alice@example.com' }), issued('alice', good), added('bob'), issued('bob', other)]);

  it('returns the principal of a good token', () => {
    assert.deepEqual(authenticateToken(base, noAdmins, good.token), { name: 'alice', role: 'privileged', email: 'alice@example.com' });
    assert.deepEqual(authenticateToken(base, noAdmins, other.token), { name: 'bob', role: 'analyst' });
  });

  it('rejects a wrong secret, a malformed token, an unknown id, and oversized input', () => {
    const wrongSecret = `${good.token.slice(0, 21)}${other.token.slice(21)}`;
    for (const token of [wrongSecret, good.token.slice(0, -1), `${good.token}x`, good.hash, '', generateToken().token, 'x'.repeat(10_000)]) {
      assert.equal(authenticateToken(base, noAdmins, token), undefined, token.slice(0, 40));
    }
    assert.equal(authenticateToken(base, noAdmins, undefined as unknown as string), undefined);
  });

  it('rejects a revoked token but keeps the analyst\'s other tokens', () => {
    const second = generateToken();
    const state = fold([issued('alice', second), revoked('alice', good.tokenId)], base);
    assert.equal(authenticateToken(state, noAdmins, good.token), undefined);
    assert.equal(authenticateToken(state, noAdmins, second.token)?.name, 'alice');
    assert.equal(authenticateToken(fold([revoked('alice')], state), noAdmins, second.token), undefined);
  });

  it('rejects the tokens of a removed analyst, also after the name is added again', () => {
    const state = fold([removed('alice')], base);
    assert.equal(authenticateToken(state, noAdmins, good.token), undefined);
    assert.equal(authenticateToken(fold([added('alice')], state), noAdmins, good.token), undefined);
    assert.equal(authenticateToken(state, noAdmins, other.token)?.name, 'bob');
  });

  it('gives an analyst listed in instance.yaml admins the admin role', () => {
    assert.equal(authenticateToken(base, { instance: { admins: [{ username: 'bob' }] } }, other.token)?.role, 'admin');
  });

  it('remembers a found token for its state and configuration only, and only so many', () => {
    const state = fold([added('carol'), issued('carol', good)]);
    const first = authenticateToken(state, noAdmins, good.token);
    assert.equal(authenticateToken(state, noAdmins, good.token), first, 'the same principal, not looked up again');
    assert.equal(authenticateToken(state, { instance: { admins: [{ username: 'carol' }] } }, good.token)?.role, 'admin', 'another configuration, another lookup');
    assert.equal(authenticateToken(fold([revoked('carol', good.tokenId)], state), noAdmins, good.token), undefined, 'a new state forgets');
    assert.equal(authenticateToken(fold([removed('carol')], state), noAdmins, good.token), undefined);
    assert.throws(() => ((first as { role: string }).role = 'admin'), TypeError, 'a shared principal is frozen');

    const many = Array.from({ length: TOKEN_MEMO_LIMITS.entriesPerState }, () => generateToken());
    const crowded = fold([added('dan'), issued('dan', good), ...many.map((t) => issued('dan', t))]);
    const dan = authenticateToken(crowded, noAdmins, good.token);
    assert.equal(authenticateToken(crowded, noAdmins, good.token), dan);
    for (const t of many) assert.equal(authenticateToken(crowded, noAdmins, t.token)?.name, 'dan');
    const again = authenticateToken(crowded, noAdmins, good.token);
    assert.notEqual(again, dan, 'the oldest entry made room');
    assert.deepEqual(again, dan);
  });
});

describe('rolesOf and principalOf', () => {
  const state = fold([added('carol', 'analyst', { email: 'carol@example.com', sshKey: KEYS.ed25519.text }), added('alice', 'privileged')]);
  const config: AccessConfig = { instance: { admins: [{ username: 'root-admin', sshPublicKey: KEYS.rsa.text }, { username: 'carol' }, { username: 'dave', sshPublicKey: 'not a key' }] } };

  it('merges admins from instance.yaml with analysts from events, sorted by name', () => {
    const members = rolesOf(state, config);
    assert.deepEqual([...members.keys()], ['alice', 'carol', 'dave', 'root-admin']);
    assert.deepEqual([...members.values()].map((m) => [m.name, m.role, m.source]), [
      ['alice', 'privileged', 'events'], ['carol', 'admin', 'both'], ['dave', 'admin', 'config'], ['root-admin', 'admin', 'config'],
    ]);
    assert.equal(members.get('root-admin')!.sshKeyFingerprint, KEYS.rsa.fingerprint);
    assert.equal(members.get('carol')!.sshKeyFingerprint, KEYS.ed25519.fingerprint);
    assert.equal(members.get('carol')!.email, 'carol@example.com');
    assert.equal(members.get('dave')!.sshKeyFingerprint, undefined);
  });

  it('principalOf finds analysts and configured admins, and nobody else', () => {
    assert.deepEqual(principalOf(state, config, 'carol'), { name: 'carol', role: 'admin', email: 'carol@example.com' });
    assert.deepEqual(principalOf(state, config, 'root-admin'), { name: 'root-admin', role: 'admin' });
    assert.deepEqual(principalOf(state, noAdmins, 'carol'), { name: 'carol', role: 'analyst', email: 'carol@example.com' });
    assert.equal(principalOf(state, config, 'eve'), undefined);
  });
});

describe('canSeeTable', () => {
  it('shows public tables to everyone and private tables only to privileged analysts and admins', () => {
    const pub = { private: false };
    const priv = { private: true };
    assert.deepEqual((['analyst', 'privileged', 'admin'] as const).map((role) => [canSeeTable({ role }, pub), canSeeTable({ role }, priv)]), [
      [true, false], [true, true], [true, true],
    ]);
  });
});
