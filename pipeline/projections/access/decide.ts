/**
 * Decisions of access changes: given the current access state and a request, the event to
 * append (with an idempotency key) or an error with a stable code. Pure apart from randomness.
 */
import { createHash } from 'node:crypto';
import type { AnalystAdded, AnalystRemoved, AnalystRole, AnalystSshKeyChanged, DatasetSubscribed, DatasetUnsubscribed, TokenIssued, TokenRevoked } from '../../../events/index.ts';
import type { AccessConfig, AccessState, AnalystRecord } from './projection.ts';
import { findToken } from './projection.ts';
import { generateToken, TOKEN_ID, tokenIdOf } from './tokens.ts';
import type { IssuedToken } from './tokens.ts';
import { accessError, AccessErrorCode, parseSshPublicKey, sshKeyFingerprint, validateAnalystName, validateEmail } from './validate.ts';
import type { SshPublicKey } from './validate.ts';

/** An event to append and its idempotency key. */
export interface Decision<E> {
  event: E;
  /**
   * Derived from the state the decision was made on (name and generation, token ids), so two
   * commands deciding the same change concurrently record it once: the second append is a duplicate.
   */
  idempotencyKey: string;
}

/** What `ada analyst add` asks for. */
export interface AddAnalystRequest {
  name: string;
  role: AnalystRole;
  email?: string;
  /** One OpenSSH public key line. */
  sshKey?: string;
}

function isConfigAdmin(config: AccessConfig, name: string): boolean {
  return config.instance.admins.some((a) => a.username === name);
}

function recorded(state: AccessState, config: AccessConfig, name: string): AnalystRecord {
  const analyst = Object.hasOwn(state.analysts, name) ? state.analysts[name] : undefined;
  if (analyst) return analyst;
  if (isConfigAdmin(config, name)) {
    throw accessError(AccessErrorCode.analystNotFound,
      `${name} is an admin listed in instance.yaml \`admins\`, not an analyst added with \`ada analyst add\`; change instance.yaml, or run \`ada analyst add ${name} --admin\` first`, { name });
  }
  throw accessError(AccessErrorCode.analystNotFound, `no analyst named ${JSON.stringify(name)} (see \`ada analyst list\`)`, { name });
}

/** Validates an add request against the state: name, email and key well-formed, name free, key and email not someone else's. */
export function decideAddAnalyst(state: AccessState, config: AccessConfig, request: AddAnalystRequest): Decision<AnalystAdded> & { sshKey?: SshPublicKey } {
  const name = validateAnalystName(request.name);
  const email = request.email !== undefined ? validateEmail(request.email) : undefined;
  const sshKey = request.sshKey !== undefined ? parseSshPublicKey(request.sshKey) : undefined;
  if (Object.hasOwn(state.analysts, name)) {
    throw accessError(AccessErrorCode.analystExists, `analyst ${name} already exists; remove them first to add them again (\`ada analyst remove ${name}\`)`, { name });
  }
  if (sshKey) {
    const holder = sshKeyHolder(state, config, name, sshKey.fingerprint);
    if (holder !== undefined) {
      throw accessError(AccessErrorCode.sshKeyInUse, `the SSH key ${sshKey.fingerprint} already belongs to ${holder}; every analyst needs their own key`, { name, holder });
    }
  }
  if (email !== undefined) {
    const holder = Object.values(state.analysts).find((a) => a.email === email);
    if (holder) throw accessError(AccessErrorCode.emailInUse, `${email} is already the email of ${holder.name}`, { name, holder: holder.name });
  }
  const generation = (state.generations[name] ?? 0) + 1;
  return {
    event: {
      type: 'AnalystAdded', v: 1,
      data: { name, role: request.role, ...(email !== undefined ? { email } : {}), ...(sshKey ? { sshKey: sshKey.text } : {}) },
    },
    idempotencyKey: `analyst-added:${name}#${generation}`,
    ...(sshKey ? { sshKey } : {}),
  };
}

/** Who else holds the key with this fingerprint (an analyst or an admin of instance.yaml), or undefined. */
function sshKeyHolder(state: AccessState, config: AccessConfig, name: string, fingerprint: string): string | undefined {
  return Object.values(state.analysts).find((a) => a.name !== name && a.sshKeyFingerprint === fingerprint)?.name
    ?? config.instance.admins.find((a) => a.username !== name && sshKeyFingerprint(a.sshPublicKey) === fingerprint)?.username;
}

/**
 * Sets, replaces or (with `sshKey` undefined) removes a recorded analyst's SSH public key; undefined
 * when the key is already that one. The key is validated as for `ada analyst add` and must not be
 * someone else's. Admins only in instance.yaml keep their key there (`admins[].ssh_public_key`).
 */
export function decideChangeSshKey(state: AccessState, config: AccessConfig, name: string, sshKey: string | undefined, by: string): (Decision<AnalystSshKeyChanged> & { sshKey?: SshPublicKey }) | undefined {
  const analyst = recorded(state, config, name);
  const parsed = sshKey !== undefined ? parseSshPublicKey(sshKey) : undefined;
  if ((parsed?.text ?? undefined) === analyst.sshKey) return undefined;
  if (parsed) {
    const holder = sshKeyHolder(state, config, name, parsed.fingerprint);
    if (holder !== undefined) throw accessError(AccessErrorCode.sshKeyInUse, `the SSH key ${parsed.fingerprint} already belongs to ${holder}; every analyst needs their own key`, { name, holder });
  }
  return {
    event: { type: 'AnalystSshKeyChanged', v: 1, data: { name, ...(parsed ? { sshKey: parsed.text } : {}), by } },
    // The count of earlier changes tells apart setting a key back to an earlier one from a retry of the same change.
    idempotencyKey: `ssh-key-changed:${name}#${analyst.generation}:${analyst.sshKeyChanges ?? 0}`,
    ...(parsed ? { sshKey: parsed } : {}),
  };
}

/** Removes a recorded analyst (their tokens go with them); admins only in instance.yaml are refused. */
export function decideRemoveAnalyst(state: AccessState, config: AccessConfig, name: string): Decision<AnalystRemoved> {
  const analyst = recorded(state, config, name);
  return { event: { type: 'AnalystRemoved', v: 1, data: { name } }, idempotencyKey: `analyst-removed:${name}#${analyst.generation}` };
}

/** Issues a new token to a recorded analyst; the event carries only its hash. */
export function decideIssueToken(state: AccessState, config: AccessConfig, name: string, generate: () => IssuedToken = generateToken): Decision<TokenIssued> & { token: IssuedToken } {
  recorded(state, config, name);
  let token = generate();
  // A 64-bit id repeating is practically impossible; a fresh draw settles it if it ever does.
  for (let tries = 0; findToken(state, token.tokenId); tries++) {
    if (tries >= 3) throw new Error('token id generator keeps repeating ids');
    token = generate();
  }
  return {
    event: { type: 'TokenIssued', v: 1, data: { name, tokenId: token.tokenId, hash: token.hash } },
    idempotencyKey: `token-issued:${token.tokenId}`,
    token,
  };
}

/**
 * Revokes one token (by id, or given the whole token) or, without `which`, every token of an
 * analyst. Undefined when the analyst has no token to revoke.
 */
export function decideRevokeTokens(state: AccessState, config: AccessConfig, name: string, which?: string): (Decision<TokenRevoked> & { revoked: string[] }) | undefined {
  const analyst = recorded(state, config, name);
  let revoked: string[];
  if (which !== undefined) {
    const tokenId = TOKEN_ID.test(which) ? which : tokenIdOf(which);
    if (tokenId === undefined) {
      throw accessError(AccessErrorCode.invalidTokenId, `${JSON.stringify(which.slice(0, 24))} is not a token id (16 hex characters, shown by \`ada analyst list --json\`)`, { name });
    }
    if (!Object.hasOwn(analyst.tokens, tokenId)) {
      throw accessError(AccessErrorCode.tokenNotFound, `${name} has no token ${tokenId}`, { name, tokenId });
    }
    revoked = [tokenId];
  } else {
    revoked = Object.keys(analyst.tokens).sort();
    if (revoked.length === 0) return undefined;
  }
  return {
    event: { type: 'TokenRevoked', v: 1, data: which !== undefined ? { name, tokenId: revoked[0]! } : { name } },
    // Revoking one token or all of a set that is just that token has the same effect, hence the same key.
    idempotencyKey: `token-revoked:${name}#${analyst.generation}:${revoked.length === 1 ? revoked[0]! : createHash('sha256').update(revoked.join(',')).digest('hex').slice(0, 32)}`,
    revoked,
  };
}

/**
 * Subscribes a recorded analyst to a configured dataset, or unsubscribes them; undefined when that
 * is already so. `datasets` are the keys of instance.yaml `datasets:`, `requiresOf` their `requires`:
 * a dataset is subscribed only after what it requires, and what another subscription requires is kept
 * (DATASET_REQUIRED, "X requires Y"), as the portal checks.
 */
export function decideSubscription(state: AccessState, config: AccessConfig, name: string, dataset: string, subscribe: boolean, datasets: readonly string[], requiresOf: (dataset: string) => readonly string[] = () => []): Decision<DatasetSubscribed | DatasetUnsubscribed> | undefined {
  const analyst = recorded(state, config, name);
  if (!datasets.includes(dataset)) {
    throw accessError(AccessErrorCode.datasetNotFound, `no dataset named ${JSON.stringify(dataset)}; configured: ${datasets.length ? datasets.join(', ') : 'none (instance.yaml datasets:)'}`, { name, dataset });
  }
  const current = analyst.datasets ?? [];
  const has = current.includes(dataset);
  if (has === subscribe) return undefined;
  if (subscribe) {
    const missing = requiresOf(dataset).filter((d) => !current.includes(d));
    if (missing.length > 0) throw accessError(AccessErrorCode.datasetRequired, `${dataset} requires ${missing.join(', ')}: subscribe ${name} to ${missing.length > 1 ? 'them' : 'it'} first`, { name, dataset, missing });
  } else {
    const dependants = current.filter((d) => d !== dataset && requiresOf(d).includes(dataset));
    if (dependants.length > 0) throw accessError(AccessErrorCode.datasetRequired, `${dependants.join(', ')} ${dependants.length > 1 ? 'require' : 'requires'} ${dataset}: unsubscribe ${name} from ${dependants.length > 1 ? 'them' : 'it'} first`, { name, dataset, dependants });
  }
  // The count of earlier changes tells a later subscribe of the same dataset (after an unsubscribe) from a retry.
  const count = analyst.subscriptionChanges ?? 0;
  return subscribe
    ? { event: { type: 'DatasetSubscribed', v: 1, data: { name, dataset } }, idempotencyKey: `dataset-subscribed:${name}#${analyst.generation}:${dataset}:${count}` }
    : { event: { type: 'DatasetUnsubscribed', v: 1, data: { name, dataset } }, idempotencyKey: `dataset-unsubscribed:${name}#${analyst.generation}:${dataset}:${count}` };
}
