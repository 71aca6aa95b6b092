import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdaEvent } from '../../../events/index.ts';
import {
  AccessErrorCode, authenticateToken, decideAddAnalyst, decideChangeSshKey, decideIssueToken, decideRemoveAnalyst, decideRevokeTokens, emptyAccess, evolveAccess, hashToken,
} from '../../../pipeline/projections/access/index.ts';
import type { AccessConfig, AccessEvent, AccessState, IssuedToken } from '../../../pipeline/projections/access/index.ts';
import { KEYS, PRIVATE_KEY, REFUSED_KEYS } from './ssh-keys.ts';

function apply(state: AccessState, ...events: AdaEvent[]): AccessState {
  return events.reduce((s, e, i) => evolveAccess(s, { ...e, id: `e${i}`, position: i + 1, at: '2026-01-01T00:00:00.000Z', source: 'test' } as AccessEvent), state);
}

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { code?: string }).code, code, (err as Error).message);
    if (message) assert.match((err as Error).message, message);
    return true;
  });
}

const config: AccessConfig = { instance: { admins: [{ username: 'boss', sshPublicKey: KEYS.rsa.text }] } };

function fixedToken(id: string): IssuedToken {
  const token = `ada_${id}_${'s'.repeat(43)}`;
  return { token, tokenId: id, hash: hashToken(token) };
}

describe('decideAddAnalyst', () => {
  it('builds the event with the normalized email and key, keyed by name and generation', () => {
    const d = decideAddAnalyst(emptyAccess(), config, { name: 'alice', role: 'privileged', email: 'Alice@Example.com', sshKey: `  ${KEYS.ed25519.text}\n` });
    assert.deepEqual(d.event, { type: 'AnalystAdded', v: 1, data: { name: 'alice', role: 'privileged', email: 'alice@example.com', sshKey: KEYS.ed25519.text } });
    assert.equal(d.idempotencyKey, 'analyst-added:alice#1');
    assert.equal(d.sshKey?.fingerprint, KEYS.ed25519.fingerprint);
    const bare = decideAddAnalyst(emptyAccess(), config, { name: 'bob', role: 'analyst' });
    assert.deepEqual(bare.event.data, { name: 'bob', role: 'analyst' });
  });

  it('refuses bad input with its code', () => {
    throwsCode(() => decideAddAnalyst(emptyAccess(), config, { name: 'Alice', role: 'analyst' }), AccessErrorCode.invalidName);
    throwsCode(() => decideAddAnalyst(emptyAccess(), config, { name: 'root', role: 'analyst' }), AccessErrorCode.reservedName);
    throwsCode(() => decideAddAnalyst(emptyAccess(), config, { name: 'alice', role: 'analyst', email: 'nope' }), AccessErrorCode.invalidEmail);
    throwsCode(() => decideAddAnalyst(emptyAccess(), config, { name: 'alice', role: 'analyst', sshKey: 'ssh-ed25519 xx' }), AccessErrorCode.invalidSshKey);
    throwsCode(() => decideAddAnalyst(emptyAccess(), config, { name: 'alice', role: 'analyst', sshKey: PRIVATE_KEY }), AccessErrorCode.privateKeyRefused);
  });

  it('refuses a present name, another analyst\'s key or email; allows a re-add after removal as the next generation', () => {
    const state = apply(emptyAccess(), decideAddAnalyst(emptyAccess(), config, { name: 'alice', role: 'analyst', email: 'alice@example.com', sshKey: KEYS.ed25519.text }).event);
    throwsCode(() => decideAddAnalyst(state, config, { name: 'alice', role: 'admin' }), AccessErrorCode.analystExists, /already exists/);
    throwsCode(() => decideAddAnalyst(state, config, { name: 'bob', role: 'analyst', sshKey: KEYS.ed25519.text }), AccessErrorCode.sshKeyInUse, /belongs to alice/);
    throwsCode(() => decideAddAnalyst(state, config, { name: 'bob', role: 'analyst', sshKey: KEYS.rsa.text }), AccessErrorCode.sshKeyInUse, /belongs to boss/);
    throwsCode(() => decideAddAnalyst(state, config, { name: 'bob', role: 'analyst', email: 'ALICE@example.com' }), AccessErrorCode.emailInUse);
    const gone = apply(state, decideRemoveAnalyst(state, config, 'alice').event);
    const again = decideAddAnalyst(gone, config, { name: 'alice', role: 'analyst', email: 'alice@example.com', sshKey: KEYS.ed25519.text });
    assert.equal(again.idempotencyKey, 'analyst-added:alice#2');
  });

  it('lets a configured admin be recorded with their own configured key', () => {
    const d = decideAddAnalyst(emptyAccess(), config, { name: 'boss', role: 'admin', sshKey: KEYS.rsa.text });
    assert.equal(d.event.data.name, 'boss');
  });
});

describe('decideRemoveAnalyst', () => {
  it('removes a recorded analyst, keyed by generation', () => {
    const state = apply(emptyAccess(), { type: 'AnalystAdded', v: 1, data: { name: 'alice', role: 'analyst' } });
    assert.deepEqual(decideRemoveAnalyst(state, config, 'alice'), { event: { type: 'AnalystRemoved', v: 1, data: { name: 'alice' } }, idempotencyKey: 'analyst-removed:alice#1' });
  });

  it('refuses an unknown name, and an admin who exists only in instance.yaml', () => {
    throwsCode(() => decideRemoveAnalyst(emptyAccess(), config, 'ghost'), AccessErrorCode.analystNotFound, /no analyst named "ghost"/);
    throwsCode(() => decideRemoveAnalyst(emptyAccess(), config, 'boss'), AccessErrorCode.analystNotFound, /instance\.yaml/);
    throwsCode(() => decideRemoveAnalyst(emptyAccess(), config, '__proto__'), AccessErrorCode.analystNotFound);
  });
});

describe('decideIssueToken and decideRevokeTokens', () => {
  const base = apply(emptyAccess(), { type: 'AnalystAdded', v: 1, data: { name: 'alice', role: 'analyst' } });

  it('issues a token whose event carries only the hash', () => {
    const d = decideIssueToken(base, config, 'alice');
    assert.deepEqual(d.event, { type: 'TokenIssued', v: 1, data: { name: 'alice', tokenId: d.token.tokenId, hash: hashToken(d.token.token) } });
    assert.ok(!JSON.stringify(d.event).includes(d.token.token));
    assert.equal(d.idempotencyKey, `token-issued:${d.token.tokenId}`);
    throwsCode(() => decideIssueToken(base, config, 'bob'), AccessErrorCode.analystNotFound);
    throwsCode(() => decideIssueToken(base, config, 'boss'), AccessErrorCode.analystNotFound, /ada analyst add boss --admin/);
  });

  it('draws a new id when the generated one is taken', () => {
    const state = apply(base, decideIssueToken(base, config, 'alice', () => fixedToken('aaaaaaaaaaaaaaaa')).event);
    const draws = [fixedToken('aaaaaaaaaaaaaaaa'), fixedToken('bbbbbbbbbbbbbbbb')];
    assert.equal(decideIssueToken(state, config, 'alice', () => draws.shift()!).token.tokenId, 'bbbbbbbbbbbbbbbb');
  });

  it('revokes one token by id or by the whole token, or all; nothing to do without tokens', () => {
    const t1 = fixedToken('1111111111111111');
    const t2 = fixedToken('2222222222222222');
    const state = apply(base, decideIssueToken(base, config, 'alice', () => t1).event, { type: 'TokenIssued', v: 1, data: { name: 'alice', tokenId: t2.tokenId, hash: t2.hash } });
    const one = decideRevokeTokens(state, config, 'alice', t1.tokenId)!;
    assert.deepEqual(one.event, { type: 'TokenRevoked', v: 1, data: { name: 'alice', tokenId: t1.tokenId } });
    assert.deepEqual(one.revoked, [t1.tokenId]);
    assert.deepEqual(decideRevokeTokens(state, config, 'alice', t2.token)!.revoked, [t2.tokenId]);
    const all = decideRevokeTokens(state, config, 'alice')!;
    assert.deepEqual(all.event, { type: 'TokenRevoked', v: 1, data: { name: 'alice' } });
    assert.deepEqual(all.revoked, [t1.tokenId, t2.tokenId]);
    assert.equal(decideRevokeTokens(base, config, 'alice'), undefined);
    throwsCode(() => decideRevokeTokens(state, config, 'alice', '3333333333333333'), AccessErrorCode.tokenNotFound);
    throwsCode(() => decideRevokeTokens(state, config, 'alice', 'nope'), AccessErrorCode.invalidTokenId);
    throwsCode(() => decideRevokeTokens(state, config, 'ghost'), AccessErrorCode.analystNotFound);
  });

  it('gives revoking a token and revoking all of a one-token set the same key', () => {
    const t1 = fixedToken('1111111111111111');
    const state = apply(base, decideIssueToken(base, config, 'alice', () => t1).event);
    assert.equal(decideRevokeTokens(state, config, 'alice', t1.tokenId)!.idempotencyKey, decideRevokeTokens(state, config, 'alice')!.idempotencyKey);
  });
});

describe('decideChangeSshKey', () => {
  const added = (key?: string) => apply(emptyAccess(), decideAddAnalyst(emptyAccess(), config, { name: 'alice', role: 'analyst', ...(key ? { sshKey: key } : {}) }).event);

  it('sets, replaces and removes the key; the state follows with its fingerprint', () => {
    let state = added();
    const set = decideChangeSshKey(state, config, 'alice', `  ${KEYS.ed25519.text}\n`, 'alice')!;
    assert.deepEqual(set.event, { type: 'AnalystSshKeyChanged', v: 1, data: { name: 'alice', sshKey: KEYS.ed25519.text, by: 'alice' } });
    state = apply(state, set.event);
    assert.equal(state.analysts.alice!.sshKeyFingerprint, KEYS.ed25519.fingerprint);
    state = apply(state, decideChangeSshKey(state, config, 'alice', KEYS.ecdsa384.text, 'alice')!.event);
    assert.equal(state.analysts.alice!.sshKey, KEYS.ecdsa384.text);
    assert.equal(state.analysts.alice!.sshKeyFingerprint, KEYS.ecdsa384.fingerprint);
    const removed = decideChangeSshKey(state, config, 'alice', undefined, 'admin')!;
    assert.deepEqual(removed.event.data, { name: 'alice', by: 'admin' });
    state = apply(state, removed.event);
    assert.equal(state.analysts.alice!.sshKey, undefined);
    assert.equal(state.analysts.alice!.sshKeyFingerprint, undefined);
    assert.equal(state.analysts.alice!.sshKeyChanges, 3);
  });

  it('changes nothing when the key is already that one (or there is none to remove)', () => {
    assert.equal(decideChangeSshKey(added(KEYS.ed25519.text), config, 'alice', KEYS.ed25519.text, 'alice'), undefined);
    assert.equal(decideChangeSshKey(added(), config, 'alice', undefined, 'alice'), undefined);
  });

  it('keys each change by how many came before, so going back to an earlier key is recorded again', () => {
    let state = added(KEYS.ed25519.text);
    const keys: string[] = [];
    for (const key of [KEYS.ecdsa256.text, KEYS.ed25519.text, KEYS.ecdsa256.text]) {
      const d = decideChangeSshKey(state, config, 'alice', key, 'alice')!;
      keys.push(d.idempotencyKey);
      state = apply(state, d.event);
    }
    assert.deepEqual(keys, ['ssh-key-changed:alice#1:0', 'ssh-key-changed:alice#1:1', 'ssh-key-changed:alice#1:2']);
  });

  it('refuses bad keys, private keys, short RSA keys, someone else\'s key and unknown analysts, with their codes', () => {
    const state = apply(added(), decideAddAnalyst(added(), config, { name: 'bob', role: 'analyst', sshKey: KEYS.ed25519Other.text }).event);
    throwsCode(() => decideChangeSshKey(state, config, 'alice', 'ssh-ed25519 AAAA!!!!', 'alice'), AccessErrorCode.invalidSshKey, /base64/);
    throwsCode(() => decideChangeSshKey(state, config, 'alice', REFUSED_KEYS.rsa1024, 'alice'), AccessErrorCode.invalidSshKey, /1024 bits/);
    throwsCode(() => decideChangeSshKey(state, config, 'alice', REFUSED_KEYS.dsa, 'alice'), AccessErrorCode.invalidSshKey, /DSA/);
    throwsCode(() => decideChangeSshKey(state, config, 'alice', PRIVATE_KEY, 'alice'), AccessErrorCode.privateKeyRefused);
    throwsCode(() => decideChangeSshKey(state, config, 'alice', `ssh-ed25519 ${'A'.repeat(9000)}`, 'alice'), AccessErrorCode.invalidSshKey, /longer than/);
    throwsCode(() => decideChangeSshKey(state, config, 'alice', KEYS.ed25519Other.text, 'alice'), AccessErrorCode.sshKeyInUse, /belongs to bob/);
    throwsCode(() => decideChangeSshKey(state, config, 'alice', KEYS.rsa.text, 'alice'), AccessErrorCode.sshKeyInUse, /belongs to boss/);
    throwsCode(() => decideChangeSshKey(state, config, 'carol', KEYS.ecdsa256.text, 'carol'), AccessErrorCode.analystNotFound);
    throwsCode(() => decideChangeSshKey(state, config, 'boss', KEYS.ecdsa256.text, 'boss'), AccessErrorCode.analystNotFound, /instance\.yaml/);
  });
});

describe('authenticateToken', () => {
  it('follows issue, revoke and removal through new states (its index is per state)', () => {
    let state = added();
    const t = fixedToken('0123456789abcdef');
    state = apply(state, decideIssueToken(state, config, 'alice', () => t).event);
    assert.deepEqual(authenticateToken(state, config, t.token), { name: 'alice', role: 'analyst' });
    assert.equal(authenticateToken(state, config, t.token.slice(0, -1) + (t.token.endsWith('s') ? 't' : 's')), undefined);
    assert.equal(authenticateToken(state, config, 'ada_nope'), undefined);
    const revoked = apply(state, decideRevokeTokens(state, config, 'alice')!.event);
    assert.equal(authenticateToken(revoked, config, t.token), undefined);
    assert.deepEqual(authenticateToken(state, config, t.token), { name: 'alice', role: 'analyst' }, 'the older state still answers as it was');
    const admin = { instance: { admins: [{ username: 'alice' }] } } as AccessConfig;
    assert.equal(authenticateToken(state, admin, t.token)?.role, 'admin', 'roles follow the configuration too');
  });

  function added(): AccessState {
    return apply(emptyAccess(), decideAddAnalyst(emptyAccess(), config, { name: 'alice', role: 'analyst' }).event);
  }
});
