/** Validation of analyst names, emails and SSH public keys, with stable error codes. */
import { createHash } from 'node:crypto';
import { adaError } from '../../../events/index.ts';
import type { AdaError } from '../../../events/index.ts';

/** Stable codes of access errors: the first five are mistakes in the input, the rest conflicts with current state. */
export const AccessErrorCode = {
  invalidName: 'INVALID_NAME',
  reservedName: 'RESERVED_NAME',
  invalidEmail: 'INVALID_EMAIL',
  invalidSshKey: 'INVALID_SSH_KEY',
  privateKeyRefused: 'PRIVATE_KEY_REFUSED',
  invalidTokenId: 'INVALID_TOKEN_ID',
  analystExists: 'ANALYST_EXISTS',
  analystNotFound: 'ANALYST_NOT_FOUND',
  tokenNotFound: 'TOKEN_NOT_FOUND',
  sshKeyInUse: 'SSH_KEY_IN_USE',
  emailInUse: 'EMAIL_IN_USE',
  datasetNotFound: 'DATASET_NOT_FOUND',
  datasetRequired: 'DATASET_REQUIRED',
} as const;

export type AccessErrorCode = (typeof AccessErrorCode)[keyof typeof AccessErrorCode];

/** Codes that mean the input itself is wrong (exit 2), as opposed to a conflict with current state (exit 1). */
export const INPUT_ERROR_CODES: ReadonlySet<string> = new Set<string>([
  AccessErrorCode.invalidName, AccessErrorCode.reservedName, AccessErrorCode.invalidEmail,
  AccessErrorCode.invalidSshKey, AccessErrorCode.privateKeyRefused, AccessErrorCode.invalidTokenId, AccessErrorCode.datasetNotFound,
]);

/** Creates an access error with a stable code. */
export function accessError(code: AccessErrorCode, message: string, details: Record<string, unknown> = {}): AdaError {
  return adaError(code, message, details);
}

/**
 * An analyst name is also a Unix account name on the broker (analysts log in with SSH), so it
 * follows the portable useradd rules: lower case, starts with a letter, at most 32 characters.
 */
export const ANALYST_NAME = /^[a-z][a-z0-9_-]{1,31}$/;

/**
 * Accounts and groups a Debian/Ubuntu/RHEL host or a common service already uses. An analyst
 * of the same name would collide with it, or (for groups such as `sudo`, `adm`, `docker`,
 * `admin` — the sudo group of older Ubuntu) be handed its privileges by `useradd`.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  // users of a base system
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy',
  'www-data', 'backup', 'list', 'irc', 'gnats', 'nobody', 'nogroup', 'messagebus', 'syslog', 'sshd',
  'uuidd', 'tcpdump', 'tss', 'landscape', 'pollinate', 'fwupd-refresh', 'usbmux', 'dnsmasq', 'avahi',
  'polkitd', 'lxd', 'halt', 'shutdown', 'operator', 'ftp', 'rpc', 'rpcuser', 'nfsnobody', 'chrony', 'ntp',
  'dbus', 'nscd', 'statd', 'dhcpcd', 'kernoops', 'rtkit', 'colord', 'saned', 'pulse', 'geoclue',
  // groups of a base system
  'adm', 'tty', 'disk', 'kmem', 'dialout', 'fax', 'voice', 'cdrom', 'floppy', 'tape', 'sudo', 'audio',
  'dip', 'src', 'shadow', 'utmp', 'video', 'sasl', 'plugdev', 'staff', 'users', 'netdev', 'input',
  'kvm', 'render', 'crontab', 'ssh', 'wheel', 'admin', 'docker', 'sgx', 'lpadmin', 'sambashare',
  // default users of cloud images
  'ubuntu', 'debian', 'centos', 'fedora', 'ec2-user', 'azureuser', 'cloud-user', 'opc',
  // services often installed beside the broker
  'postgres', 'mysql', 'redis', 'nginx', 'apache', 'httpd', 'postfix', 'dovecot', 'git', 'caddy',
  // this application's own service account
  'ada',
]);

/** Name prefixes reserved for system accounts. */
export const RESERVED_PREFIXES: readonly string[] = ['systemd-'];

/** Throws `INVALID_NAME` or `RESERVED_NAME` unless `name` can be an analyst's name. */
export function validateAnalystName(name: string): string {
  if (typeof name !== 'string' || !ANALYST_NAME.test(name)) {
    const hint = typeof name === 'string' && ANALYST_NAME.test(name.toLowerCase()) ? ` (use lower case: ${name.toLowerCase()})` : '';
    throw accessError(AccessErrorCode.invalidName,
      `${JSON.stringify(name)} is not a valid analyst name${hint}: use 2–32 characters a-z, 0-9, '_' or '-', starting with a letter`, { name });
  }
  if (RESERVED_NAMES.has(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
    throw accessError(AccessErrorCode.reservedName, `${name} is reserved for a system account or group; choose another name (e.g. ${name}-analyst)`, { name });
  }
  return name;
}

/** RFC 5321 caps a forward path at 254 characters. */
const MAX_EMAIL_CHARS = 254;
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

/** Checks an email loosely (something@domain.tld) and returns it trimmed and lower-cased; throws `INVALID_EMAIL`. */
export function validateEmail(email: string): string {
  const normalized = typeof email === 'string' ? email.trim().toLowerCase() : '';
  if (!EMAIL.test(normalized) || normalized.length > MAX_EMAIL_CHARS) {
    throw accessError(AccessErrorCode.invalidEmail, `${JSON.stringify(email)} is not an email address (expected name@example.com)`, { email });
  }
  return normalized;
}

/** SSH public key types accepted (OpenSSH names). DSA is refused: OpenSSH disabled it in 7.0 and removed it in 9.8. */
export const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

export type SshKeyType = (typeof SSH_KEY_TYPES)[number];

/** A validated SSH public key. */
export interface SshPublicKey {
  type: SshKeyType;
  /** The base64 key blob. */
  body: string;
  comment?: string;
  /** Key size in bits (RSA modulus, curve size, 256 for ed25519). */
  bits: number;
  /** `SHA256:<base64>`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** The key as one `authorized_keys` line: `type body [comment]`. */
  text: string;
}

/** Longest key text accepted: a 16384-bit RSA key (OpenSSH's maximum) is about 2.8 kB of base64. */
export const MAX_SSH_KEY_CHARS = 8 * 1024;

/** RSA keys below 2048 bits are refused: NIST SP 800-131A disallows them, and 1024-bit moduli are within reach of factoring. */
export const MIN_RSA_BITS = 2048;

/** OpenSSH refuses RSA moduli above 16384 bits. */
const MAX_RSA_BITS = 16_384;

/** Uncompressed point length (0x04 || X || Y) per NIST curve. */
const EC_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const PRIVATE_KEY_HINT = 'pass the public key instead: the .pub file (e.g. ~/.ssh/id_ed25519.pub) or the output of `ssh-keygen -y -f KEYFILE`';

/** Reads the SSH wire encoding (RFC 4251 §5): uint32 lengths followed by bytes. */
class WireReader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  string(): Buffer {
    if (this.offset + 4 > this.buf.length) throw new Error('truncated');
    const len = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    if (len > this.buf.length - this.offset) throw new Error('truncated');
    const out = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return out;
  }

  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

function invalidKey(message: string): AdaError {
  return accessError(AccessErrorCode.invalidSshKey, message);
}

/** Bits of a big-endian unsigned integer (an SSH mpint without its sign byte). */
function bitLength(mpint: Buffer): number {
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  if (i === mpint.length) return 0;
  return (mpint.length - i - 1) * 8 + (32 - Math.clz32(mpint[i]!));
}

/** Checks the decoded blob's structure for its type; returns the key size in bits. */
function checkBlob(type: SshKeyType, blob: Buffer): number {
  const r = new WireReader(blob);
  const embedded = r.string().toString('latin1');
  if (embedded !== type) throw invalidKey(`the key says ${type} but its data holds a ${JSON.stringify(embedded)} key; copy the whole line of the .pub file`);
  let bits: number;
  switch (type) {
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com': {
      if (r.string().length !== 32) throw invalidKey('the ed25519 public key must be 32 bytes');
      bits = 256;
      break;
    }
    case 'ssh-rsa': {
      const e = r.string();
      const n = r.string();
      bits = bitLength(n);
      if (bitLength(e) < 2 || (e[e.length - 1]! & 1) === 0) throw invalidKey('the RSA public exponent is not valid');
      if (bits < MIN_RSA_BITS) throw invalidKey(`the RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required (better: ssh-keygen -t ed25519)`);
      if (bits > MAX_RSA_BITS) throw invalidKey(`the RSA key has ${bits} bits; at most ${MAX_RSA_BITS} are supported`);
      break;
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
    case 'sk-ecdsa-sha2-nistp256@openssh.com': {
      const curve = r.string().toString('latin1');
      const expectedCurve = type.startsWith('sk-') ? 'nistp256' : type.slice('ecdsa-sha2-'.length);
      if (curve !== expectedCurve) throw invalidKey(`the key type ${type} does not match its curve ${JSON.stringify(curve)}`);
      const point = r.string();
      if (point.length !== EC_POINT_BYTES[curve] || point[0] !== 0x04) throw invalidKey(`the ${curve} public point is not valid`);
      bits = Number(curve.slice('nistp'.length));
      break;
    }
  }
  if (type.startsWith('sk-')) {
    const application = r.string().toString('utf8');
    if (!application.startsWith('ssh:')) throw invalidKey('the security-key application must start with "ssh:"');
  }
  if (!r.done) throw invalidKey('the key data has trailing bytes; copy the whole line of the .pub file and nothing else');
  return bits;
}

/** `SHA256:<unpadded base64 of sha256(blob)>`, the fingerprint `ssh-keygen -lf` prints. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** True when the text is (or contains) a private key in any common format. */
export function looksLikePrivateKey(text: string): boolean {
  return /-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----/.test(text) || /^PuTTY-User-Key-File-\d+:/m.test(text);
}

/**
 * Parses and validates one OpenSSH public key line (`type base64 [comment]`): the type must be
 * supported, the base64 must decode to a blob whose embedded type matches and whose key data is
 * well-formed. Throws `PRIVATE_KEY_REFUSED` for private keys and `INVALID_SSH_KEY` otherwise.
 */
export function parseSshPublicKey(input: string): SshPublicKey {
  if (typeof input !== 'string') throw invalidKey('the SSH key must be text');
  if (looksLikePrivateKey(input)) {
    throw accessError(AccessErrorCode.privateKeyRefused, `this is a PRIVATE key — it must never leave your machine, and it was not stored; ${PRIVATE_KEY_HINT}`);
  }
  const text = input.trim();
  if (text === '') throw invalidKey('the SSH key is empty');
  if (text.length > MAX_SSH_KEY_CHARS) throw invalidKey(`the SSH key is longer than ${MAX_SSH_KEY_CHARS} characters; pass one public key`);
  if (text.startsWith('---- BEGIN SSH2 PUBLIC KEY ----')) {
    throw invalidKey('this is an RFC 4716 (SSH2) public key; convert it to OpenSSH format with `ssh-keygen -i -f KEYFILE`');
  }
  if (text.startsWith('-----BEGIN')) {
    throw invalidKey('this is a PEM key, not an OpenSSH public key; convert it with `ssh-keygen -i -m PKCS8 -f KEYFILE`');
  }
  if (/[\r\n]/.test(text)) throw invalidKey('pass exactly one public key, on one line');
  const [type, body, ...rest] = text.split(/[ \t]+/);
  if (type === 'ssh-dss') throw invalidKey('DSA keys are no longer accepted by OpenSSH; create a new key with `ssh-keygen -t ed25519`');
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type!)) {
    if (/[=",]/.test(type!) || /^(?:no-|restrict|cert-authority)/.test(type!)) {
      throw invalidKey('authorized_keys options are not accepted; pass only "TYPE KEY [COMMENT]" as in the .pub file');
    }
    throw invalidKey(`unsupported key type ${JSON.stringify(type!.slice(0, 40))}; expected one of ${SSH_KEY_TYPES.join(', ')}`);
  }
  const keyType = type as SshKeyType;
  if (!body) throw invalidKey(`the ${keyType} key has no key data after its type`);
  if (body.length % 4 !== 0 || !BASE64.test(body)) throw invalidKey('the key data is not valid base64; copy the whole line of the .pub file');
  const blob = Buffer.from(body, 'base64');
  if (blob.toString('base64') !== body) throw invalidKey('the key data is not valid base64; copy the whole line of the .pub file');
  let bits: number;
  try {
    bits = checkBlob(keyType, blob);
  } catch (err) {
    if ((err as { code?: string }).code === AccessErrorCode.invalidSshKey) throw err;
    throw invalidKey('the key data is truncated or malformed; copy the whole line of the .pub file');
  }
  const comment = rest.join(' ') || undefined;
  if (comment !== undefined && [...comment].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) throw invalidKey('the key comment contains control characters');
  return {
    type: keyType,
    body,
    ...(comment !== undefined ? { comment } : {}),
    bits,
    fingerprint: fingerprintOf(blob),
    text: `${keyType} ${body}${comment !== undefined ? ` ${comment}` : ''}`,
  };
}

/** The fingerprint of a key, or undefined when it is not a valid public key (never throws). */
export function sshKeyFingerprint(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  try {
    return parseSshPublicKey(key).fingerprint;
  } catch {
    return undefined;
  }
}
