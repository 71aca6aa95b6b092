/** Personal access tokens: `ada_<tokenId>_<secret>`, stored only as the sha256 of the whole token. */
import { createHash, randomBytes } from 'node:crypto';

/** Random bytes of a token's secret: 256 bits, beyond guessing even at millions of tries per second. */
export const TOKEN_SECRET_BYTES = 32;

/** Random bytes of a token id (16 hex characters): unique among one instance's tokens, public, not a secret. */
const TOKEN_ID_BYTES = 8;

/** A token id: lower-case hex, so the `_` after it always ends it. */
export const TOKEN_ID = /^[0-9a-f]{16}$/;

/** A token: prefix, id, and base64url secret of at least 32 bytes (43 characters). */
const TOKEN = /^ada_([0-9a-f]{16})_([A-Za-z0-9_-]{43,128})$/;

/** Longest string treated as a token candidate, so hashing attacker input stays cheap. */
export const MAX_TOKEN_CHARS = 256;

/** A freshly issued token; `token` is shown to its owner once and never stored. */
export interface IssuedToken {
  token: string;
  tokenId: string;
  /** sha256 of the whole token, hex. */
  hash: string;
}

/** The sha256 (hex) of a whole token, the only form in which tokens are recorded. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Generates a new token with a fresh id and secret. */
export function generateToken(): IssuedToken {
  const tokenId = randomBytes(TOKEN_ID_BYTES).toString('hex');
  const token = `ada_${tokenId}_${randomBytes(TOKEN_SECRET_BYTES).toString('base64url')}`;
  return { token, tokenId, hash: hashToken(token) };
}

/** The id of a well-formed token, or undefined. */
export function tokenIdOf(token: string): string | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return undefined;
  return TOKEN.exec(token)?.[1];
}
