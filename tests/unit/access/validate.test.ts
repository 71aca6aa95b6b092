import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessErrorCode, INPUT_ERROR_CODES, parseSshPublicKey, sshKeyFingerprint, validateAnalystName, validateEmail,
} from '../../../pipeline/projections/access/index.ts';
import { KEYS, PRIVATE_KEY, REFUSED_KEYS } from './ssh-keys.ts';

/** Asserts `fn` throws an error with `code` (and a message matching `message`, when given). */
function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { code?: string }).code, code, (err as Error).message);
    if (message) assert.match((err as Error).message, message);
    return true;
  });
}

function wire(...parts: Array<string | Buffer>): Buffer {
  return Buffer.concat(parts.map((p) => {
    const b = typeof p === 'string' ? Buffer.from(p, 'latin1') : p;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  }));
}

describe('validateAnalystName', () => {
  it('accepts lower-case names of 2–32 characters starting with a letter', () => {
    for (const name of ['al', 'alice', 'jan_novak', 'data-team-2', `a${'b'.repeat(31)}`]) assert.equal(validateAnalystName(name), name);
  });

  it('refuses malformed names with INVALID_NAME', () => {
    for (const name of ['', 'a', 'Alice', '1alice', '-alice', '_alice', 'alice smith', 'alice.smith', 'alice@x', 'ålice', `a${'b'.repeat(32)}`, '../etc', 'alice\n']) {
      throwsCode(() => validateAnalystName(name), AccessErrorCode.invalidName);
    }
    throwsCode(() => validateAnalystName('Alice'), AccessErrorCode.invalidName, /use lower case: alice/);
  });

  it('refuses system accounts, groups and systemd-* names with RESERVED_NAME', () => {
    for (const name of ['root', 'daemon', 'bin', 'sys', 'sync', 'nobody', 'www-data', 'sshd', 'postgres', 'sudo', 'adm', 'wheel', 'docker', 'admin', 'ubuntu', 'ada', 'systemd-network', 'systemd-anything']) {
      throwsCode(() => validateAnalystName(name), AccessErrorCode.reservedName);
    }
    assert.equal(validateAnalystName('rooted'), 'rooted');
    assert.equal(validateAnalystName('administrator'), 'administrator');
  });
});

describe('validateEmail', () => {
  it('accepts and normalizes plausible addresses', () => {
    assert.equal(validateEmail(' Alice.Smith+data@Example.COM '), 'alice.smith+data@example.com');
    assert.equal(validateEmail('a@b.co.uk'), 'a@b.co.uk');
  });

  it('refuses what is not an address', () => {
    for (const email of ['', 'alice', 'alice@', '@example.com', 'alice@example', 'alice@@example.com', 'al ice@example.com', 'alice@example..com', `${'a'.repeat(250)}@example.com`]) {
      throwsCode(() => validateEmail(email), AccessErrorCode.invalidEmail);
    }
  });
});

describe('parseSshPublicKey', () => {
  it('accepts every supported type and computes the fingerprint ssh-keygen prints', () => {
    for (const [name, key] of Object.entries(KEYS)) {
      const parsed = parseSshPublicKey(key.text);
      assert.equal(parsed.fingerprint, key.fingerprint, name);
      assert.equal(parsed.text, key.text, name);
      assert.equal(parsed.type, key.text.split(' ')[0]);
    }
    assert.equal(parseSshPublicKey(KEYS.rsa.text).bits, 2048);
    assert.equal(parseSshPublicKey(KEYS.ecdsa521.text).bits, 521);
    assert.equal(parseSshPublicKey(KEYS.ed25519.text).comment, 'ed25519@example.com');
  });

  it('trims surrounding whitespace, keeps a comment with spaces, and accepts a key without a comment', () => {
    const [type, body] = KEYS.ed25519.text.split(' ');
    assert.equal(parseSshPublicKey(`\n  ${type} ${body}  \n`).text, `${type} ${body}`);
    assert.equal(parseSshPublicKey(`${type} ${body}`).comment, undefined);
    assert.equal(parseSshPublicKey(`${type}\t${body} Alice Smith laptop`).comment, 'Alice Smith laptop');
  });

  it('refuses a private key with PRIVATE_KEY_REFUSED and does not echo it', () => {
    for (const text of [PRIVATE_KEY, PRIVATE_KEY.replace(/OPENSSH/g, 'RSA'), PRIVATE_KEY.replace(/OPENSSH/g, 'EC'), PRIVATE_KEY.replace(/OPENSSH /g, ''),
      PRIVATE_KEY.replace(/OPENSSH/g, 'ENCRYPTED'), `${KEYS.ed25519.text}\n${PRIVATE_KEY}`, 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n']) {
      throwsCode(() => parseSshPublicKey(text), AccessErrorCode.privateKeyRefused, /PRIVATE key/);
      assert.throws(() => parseSshPublicKey(text), (err: Error) => !err.message.includes('b3BlbnNzaC1rZXktdjE'));
    }
  });

  it('refuses unsupported types, DSA and short RSA keys', () => {
    throwsCode(() => parseSshPublicKey(REFUSED_KEYS.dsa), AccessErrorCode.invalidSshKey, /DSA/);
    throwsCode(() => parseSshPublicKey(REFUSED_KEYS.rsa1024), AccessErrorCode.invalidSshKey, /1024 bits; at least 2048/);
    throwsCode(() => parseSshPublicKey('ssh-foo AAAAB3NzaC1yc2E= x'), AccessErrorCode.invalidSshKey, /unsupported key type "ssh-foo"/);
    throwsCode(() => parseSshPublicKey('hello world'), AccessErrorCode.invalidSshKey, /unsupported key type/);
  });

  it('refuses a body that is not base64 or is cut short or padded with junk', () => {
    const [type, body, comment] = KEYS.ed25519.text.split(' ') as [string, string, string];
    throwsCode(() => parseSshPublicKey(type), AccessErrorCode.invalidSshKey, /no key data/);
    throwsCode(() => parseSshPublicKey(`${type} not*base64! ${comment}`), AccessErrorCode.invalidSshKey, /base64/);
    throwsCode(() => parseSshPublicKey(`${type} ${body.slice(0, -4)} ${comment}`), AccessErrorCode.invalidSshKey, /truncated|malformed/);
    throwsCode(() => parseSshPublicKey(`${type} ${body.slice(0, -1)} ${comment}`), AccessErrorCode.invalidSshKey, /base64/);
    const junk = Buffer.concat([Buffer.from(body, 'base64'), Buffer.from([0, 0, 0, 0])]).toString('base64');
    throwsCode(() => parseSshPublicKey(`${type} ${junk}`), AccessErrorCode.invalidSshKey, /trailing bytes/);
  });

  it('refuses a body whose embedded type does not match the prefix', () => {
    const ecBody = KEYS.ecdsa256.text.split(' ')[1]!;
    throwsCode(() => parseSshPublicKey(`ssh-ed25519 ${ecBody}`), AccessErrorCode.invalidSshKey, /says ssh-ed25519 but its data holds a "ecdsa-sha2-nistp256"/);
    throwsCode(() => parseSshPublicKey(`ecdsa-sha2-nistp384 ${ecBody}`), AccessErrorCode.invalidSshKey, /nistp256/);
    const wrongCurve = wire('ecdsa-sha2-nistp384', 'nistp256', Buffer.alloc(65, 4)).toString('base64');
    throwsCode(() => parseSshPublicKey(`ecdsa-sha2-nistp384 ${wrongCurve}`), AccessErrorCode.invalidSshKey, /curve/);
    const shortEd = wire('ssh-ed25519', Buffer.alloc(31, 1)).toString('base64');
    throwsCode(() => parseSshPublicKey(`ssh-ed25519 ${shortEd}`), AccessErrorCode.invalidSshKey, /32 bytes/);
    const badApp = wire('sk-ssh-ed25519@openssh.com', Buffer.alloc(32, 1), 'web:').toString('base64');
    throwsCode(() => parseSshPublicKey(`sk-ssh-ed25519@openssh.com ${badApp}`), AccessErrorCode.invalidSshKey, /ssh:/);
  });

  it('refuses several keys, authorized_keys options, other formats and control characters', () => {
    throwsCode(() => parseSshPublicKey(`${KEYS.ed25519.text}\n${KEYS.rsa.text}`), AccessErrorCode.invalidSshKey, /exactly one/);
    throwsCode(() => parseSshPublicKey(`command="rm -rf /" ${KEYS.ed25519.text}`), AccessErrorCode.invalidSshKey, /options/);
    throwsCode(() => parseSshPublicKey(`no-pty ${KEYS.ed25519.text}`), AccessErrorCode.invalidSshKey, /options/);
    throwsCode(() => parseSshPublicKey('---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----'), AccessErrorCode.invalidSshKey, /ssh-keygen -i/);
    throwsCode(() => parseSshPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'), AccessErrorCode.invalidSshKey, /PKCS8/);
    throwsCode(() => parseSshPublicKey(`${KEYS.ed25519.text}\u0007bell`), AccessErrorCode.invalidSshKey, /control/);
    throwsCode(() => parseSshPublicKey(''), AccessErrorCode.invalidSshKey, /empty/);
    throwsCode(() => parseSshPublicKey(`ssh-rsa ${'A'.repeat(9000)}`), AccessErrorCode.invalidSshKey, /longer than/);
  });

  it('sshKeyFingerprint never throws', () => {
    assert.equal(sshKeyFingerprint(KEYS.ed25519.text), KEYS.ed25519.fingerprint);
    assert.equal(sshKeyFingerprint('garbage'), undefined);
    assert.equal(sshKeyFingerprint(undefined), undefined);
  });

  it('input mistakes are told apart from conflicts', () => {
    for (const code of ['INVALID_NAME', 'RESERVED_NAME', 'INVALID_SSH_KEY', 'PRIVATE_KEY_REFUSED', 'INVALID_EMAIL']) assert.ok(INPUT_ERROR_CODES.has(code), code);
    for (const code of ['ANALYST_EXISTS', 'ANALYST_NOT_FOUND', 'TOKEN_NOT_FOUND', 'SSH_KEY_IN_USE', 'EMAIL_IN_USE']) assert.ok(!INPUT_ERROR_CODES.has(code), code);
  });
});
