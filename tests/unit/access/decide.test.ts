import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdaEvent } from '../../../events/index.ts';
import {
  AccessErrorCode, decideAddAnalyst, decideIssueToken, decideRemoveAnalyst, decideRevokeTokens, emptyAccess, evolveAccess, hashToken,
} from '../../../pipeline/projections/access/index.ts';
import type { AccessConfig, AccessEvent, AccessState, IssuedToken } from '../../../pipeline/projections/access/index.ts';
import { KEYS, PRIVATE_KEY } from './ssh-keys.ts';

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
