/** The access projection: who the analysts are, their roles, keys and token hashes; plus pure lookups over it. */
import { createHash } from 'node:crypto';
import type { AdminConfig } from '../../../config/index.ts';
import { assertNever } from '../../../events/index.ts';
import type { AnalystRole } from '../../../events/index.ts';
import { defineProjector } from '../../projection.ts';
import type { HandledEvent } from '../../projection.ts';
import { tokenIdOf } from './tokens.ts';
import { sshKeyFingerprint } from './validate.ts';

/** A token as the state knows it: only its hash. */
export interface TokenRecord {
  /** sha256 of the whole token, hex. */
  hash: string;
  /** ISO time of the `TokenIssued` event. */
  issuedAt: string;
}

/** One analyst recorded by events. */
export interface AnalystRecord {
  name: string;
  role: AnalystRole;
  email?: string;
  /** The public key, one `authorized_keys` line. */
  sshKey?: string;
  /** `SHA256:…` of `sshKey`. */
  sshKeyFingerprint?: string;
  /** How many times the key was changed since the add (`AnalystSshKeyChanged`); absent: never. */
  sshKeyChanges?: number;
  /** ISO time of the `AnalystAdded` event. */
  addedAt: string;
  /** Which incarnation of the name this is (1 for the first add, 2 after a remove and re-add, …). */
  generation: number;
  /** Tokens by token id. */
  tokens: Record<string, TokenRecord>;
  /** Datasets the analyst subscribed to, sorted (absent: none). */
  datasets?: string[];
  /** How many subscription changes were folded since the add; absent: none. */
  subscriptionChanges?: number;
}

/** State of the access projection, kept in its checkpoint. */
export interface AccessState {
  analysts: Record<string, AnalystRecord>;
  /** How many times each name was ever added; survives removal so a re-add is a new generation. */
  generations: Record<string, number>;
}

/** The configuration the access helpers read: `admins` of instance.yaml (an `AdaConfig` fits). */
export interface AccessConfig {
  instance: { admins: readonly AdminConfig[] };
}

/** An authenticated person. */
export interface Principal {
  name: string;
  role: AnalystRole;
  email?: string;
}

/** An analyst or admin as `rolesOf` merges them from events and instance.yaml. */
export interface Member extends Principal {
  sshKeyFingerprint?: string;
  /** Where the member comes from: events (`ada analyst add`), instance.yaml `admins`, or both. */
  source: 'events' | 'config' | 'both';
  /** The event-recorded analyst, when there is one. */
  analyst?: AnalystRecord;
}

/** The state before any event. */
export function emptyAccess(): AccessState {
  return { analysts: {}, generations: {} };
}

function withAnalyst(state: AccessState, analyst: AnalystRecord): AccessState {
  return { ...state, analysts: { ...state.analysts, [analyst.name]: analyst } };
}

/** The event types the access projection folds. */
export const ACCESS_EVENTS = ['AnalystAdded', 'AnalystRemoved', 'AnalystSshKeyChanged', 'TokenIssued', 'TokenRevoked', 'DatasetSubscribed', 'DatasetUnsubscribed'] as const;

/** An event the access projection folds. */
export type AccessEvent = HandledEvent<(typeof ACCESS_EVENTS)[number]>;

/**
 * Folds access events. Events that do not fit the state (a second add of a present name, a
 * token for an absent analyst, a repeated token id) change nothing: the first one wins.
 */
export function evolveAccess(state: AccessState, e: AccessEvent): AccessState {
  switch (e.type) {
    case 'AnalystAdded': {
      const { name, role, email, sshKey } = e.data;
      if (state.analysts[name]) return state;
      const generation = (state.generations[name] ?? 0) + 1;
      const fingerprint = sshKeyFingerprint(sshKey);
      const analyst: AnalystRecord = {
        name, role,
        ...(email !== undefined ? { email } : {}),
        ...(sshKey !== undefined ? { sshKey } : {}),
        ...(fingerprint !== undefined ? { sshKeyFingerprint: fingerprint } : {}),
        addedAt: e.at, generation, tokens: {},
      };
      return { analysts: { ...state.analysts, [name]: analyst }, generations: { ...state.generations, [name]: generation } };
    }
    case 'AnalystRemoved': {
      if (!state.analysts[e.data.name]) return state;
      const { [e.data.name]: _removed, ...analysts } = state.analysts;
      return { ...state, analysts };
    }
    case 'AnalystSshKeyChanged': {
      const analyst = state.analysts[e.data.name];
      if (!analyst) return state;
      const { sshKey: _key, sshKeyFingerprint: _fingerprint, ...rest } = analyst;
      const fingerprint = sshKeyFingerprint(e.data.sshKey);
      return withAnalyst(state, {
        ...rest,
        ...(e.data.sshKey !== undefined && fingerprint !== undefined ? { sshKey: e.data.sshKey, sshKeyFingerprint: fingerprint } : {}),
        sshKeyChanges: (analyst.sshKeyChanges ?? 0) + 1,
      });
    }
    case 'TokenIssued': {
      const analyst = state.analysts[e.data.name];
      if (!analyst || findToken(state, e.data.tokenId)) return state;
      return withAnalyst(state, { ...analyst, tokens: { ...analyst.tokens, [e.data.tokenId]: { hash: e.data.hash, issuedAt: e.at } } });
    }
    case 'TokenRevoked': {
      const analyst = state.analysts[e.data.name];
      if (!analyst) return state;
      const { tokenId } = e.data;
      if (tokenId === undefined) return Object.keys(analyst.tokens).length === 0 ? state : withAnalyst(state, { ...analyst, tokens: {} });
      if (!analyst.tokens[tokenId]) return state;
      const { [tokenId]: _revoked, ...tokens } = analyst.tokens;
      return withAnalyst(state, { ...analyst, tokens });
    }
    case 'DatasetSubscribed':
    case 'DatasetUnsubscribed': {
      const analyst = state.analysts[e.data.name];
      if (!analyst) return state;
      const current = new Set(analyst.datasets ?? []);
      if (e.type === 'DatasetSubscribed') current.add(e.data.dataset);
      else current.delete(e.data.dataset);
      return withAnalyst(state, { ...analyst, datasets: [...current].sort(), subscriptionChanges: (analyst.subscriptionChanges ?? 0) + 1 });
    }
    default:
      return assertNever(e);
  }
}

/** The access projection (state kept in its checkpoint; no outputs). */
export const accessProjection = defineProjector({
  name: 'access',
  // 3: AnalystSshKeyChanged.
  version: 3,
  handles: ACCESS_EVENTS,
  initialState: emptyAccess,
  evolve: evolveAccess,
});

/** The analyst holding a token id, with the token. */
export function findToken(state: AccessState, tokenId: string): { analyst: AnalystRecord; token: TokenRecord } | undefined {
  for (const analyst of Object.values(state.analysts)) {
    const token = Object.hasOwn(analyst.tokens, tokenId) ? analyst.tokens[tokenId] : undefined;
    if (token) return { analyst, token };
  }
  return undefined;
}

/**
 * Everyone with access, by name (sorted): analysts from events, and the admins of instance.yaml
 * with role admin. A name in both is an admin whatever its recorded role (instance.yaml wins).
 */
export function rolesOf(state: AccessState, config: AccessConfig): ReadonlyMap<string, Member> {
  // Every authenticated request asks; the answer changes only with the state (replaced by events) or the configuration.
  const memo = rolesMemo.get(state);
  if (memo?.config === config) return memo.members;
  const members = buildRoles(state, config);
  rolesMemo.set(state, { config, members });
  return members;
}

const rolesMemo = new WeakMap<AccessState, { config: AccessConfig; members: ReadonlyMap<string, Member> }>();

function buildRoles(state: AccessState, config: AccessConfig): ReadonlyMap<string, Member> {
  const members = new Map<string, Member>();
  for (const a of Object.values(state.analysts)) {
    members.set(a.name, {
      name: a.name, role: a.role,
      ...(a.email !== undefined ? { email: a.email } : {}),
      ...(a.sshKeyFingerprint !== undefined ? { sshKeyFingerprint: a.sshKeyFingerprint } : {}),
      source: 'events', analyst: a,
    });
  }
  for (const admin of config.instance.admins) {
    const known = members.get(admin.username);
    const fingerprint = known?.sshKeyFingerprint ?? sshKeyFingerprint(admin.sshPublicKey);
    members.set(admin.username, {
      ...known,
      name: admin.username,
      role: 'admin',
      ...(fingerprint !== undefined ? { sshKeyFingerprint: fingerprint } : {}),
      source: known?.analyst ? 'both' : 'config',
    });
  }
  return new Map([...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The principal of a name (analyst or configured admin), or undefined when nobody has that name. */
export function principalOf(state: AccessState, config: AccessConfig, name: string): Principal | undefined {
  const m = rolesOf(state, config).get(name);
  return m ? { name: m.name, role: m.role, ...(m.email !== undefined ? { email: m.email } : {}) } : undefined;
}


/** Token hashes (sha256 hex) to their analyst's name, built once per state: states are replaced, never changed, by events. */
const tokenIndexes = new WeakMap<AccessState, ReadonlyMap<string, string>>();

function tokenIndex(state: AccessState): ReadonlyMap<string, string> {
  let index = tokenIndexes.get(state);
  if (!index) {
    const byHash = new Map<string, string>();
    for (const a of Object.values(state.analysts)) for (const t of Object.values(a.tokens)) byHash.set(t.hash, a.name);
    tokenIndexes.set(state, (index = byHash));
  }
  return index;
}

/** Tokens held per state in the memo below: a server answers a few hundred analysts, not more. */
export const TOKEN_MEMO_LIMITS = { entriesPerState: 1024 } as const;

/**
 * Valid tokens already looked up, to their principal, per state (a new state starts empty, so a
 * revoked or removed token stops matching with the event that ends it). Keyed by the raw token:
 * held in memory only, never logged. Unknown tokens are not kept, so guesses cannot fill it.
 */
const tokenMemo = new WeakMap<AccessState, { config: AccessConfig; byToken: Map<string, Principal> }>();

/**
 * The principal a personal token belongs to, or undefined for a malformed, unknown, wrong or
 * revoked token (or one of a removed analyst). Looks the token's sha256 up among the recorded
 * hashes: what a lookup's timing could reveal is about the presented token's hash, not a stored one.
 * A token found once is remembered for the state, so a busy client's requests skip the hash.
 */
export function authenticateToken(state: AccessState, config: AccessConfig, token: string): Principal | undefined {
  let memo = tokenMemo.get(state);
  if (memo?.config !== config) tokenMemo.set(state, (memo = { config, byToken: new Map() }));
  const known = memo.byToken.get(token);
  if (known) return known;
  if (typeof token !== 'string' || tokenIdOf(token) === undefined) return undefined;
  const name = tokenIndex(state).get(createHash('sha256').update(token, 'utf8').digest('hex'));
  const principal = name === undefined ? undefined : principalOf(state, config, name);
  if (principal) {
    // Oldest first out: a map iterates in insertion order.
    if (memo.byToken.size >= TOKEN_MEMO_LIMITS.entriesPerState) memo.byToken.delete(memo.byToken.keys().next().value!);
    memo.byToken.set(token, Object.freeze(principal));
  }
  return principal;
}

/** Whether a principal may see a table: private tables only for privileged analysts and admins. */
export function canSeeTable(principal: Pick<Principal, 'role'>, table: { private: boolean }): boolean {
  return !table.private || principal.role === 'privileged' || principal.role === 'admin';
}

/** Datasets of an analyst, with the datasets they require (instance.yaml `requires`), transitively. */
export function subscribedDatasets(state: AccessState, name: string, requires: (dataset: string) => readonly string[] = () => []): Set<string> {
  const out = new Set<string>();
  const visit = (d: string): void => {
    if (out.has(d)) return;
    out.add(d);
    for (const r of requires(d)) visit(r);
  };
  for (const d of (Object.hasOwn(state.analysts, name) ? state.analysts[name]!.datasets : undefined) ?? []) visit(d);
  return out;
}
