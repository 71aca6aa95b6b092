/** The analysts part of the broker API: add, list, remove, tokens — each a decision on the access state, then an event. */
import type { AdaConfig } from '../../config/index.ts';
import type { AnalystRole, AppendResult, NewEvent } from '../../events/index.ts';
import { accessProjection, rolesOf } from '../projections/access/projection.ts';
import type { AccessState, Member } from '../projections/access/projection.ts';
import { decideAddAnalyst, decideChangeSshKey, decideIssueToken, decideRemoveAnalyst, decideRevokeTokens, decideSubscription } from '../projections/access/decide.ts';
import type { Decision } from '../projections/access/decide.ts';
import { accessError, AccessErrorCode, sshKeyFingerprint } from '../projections/access/validate.ts';
import type { ProjectionRunner } from '../projection-runner.ts';

/** What `analysts.add` is asked. */
export interface AddAnalystInput {
  name: string;
  role: AnalystRole;
  email?: string;
  /** One OpenSSH public key line. */
  sshKey?: string;
}

/** What `analysts.add` recorded. */
export interface AddedAnalyst {
  name: string;
  role: AnalystRole;
  email?: string;
  sshKey?: { fingerprint: string; type: string };
}

/** Analysts and their tokens, as `ada analyst` and the portal manage them. */
export interface AnalystsApi {
  /** Analysts recorded by events and admins of instance.yaml, merged. */
  list(): Promise<Member[]>;
  add(input: AddAnalystInput): Promise<AddedAnalyst>;
  /** Removes an analyst; their tokens stop working at once. */
  remove(name: string): Promise<{ name: string; revokedTokens: number }>;
  /** Issues a personal token; its secret is in the answer and nowhere else. */
  issueToken(name: string): Promise<{ name: string; tokenId: string; token: string }>;
  /** Revokes one token (by id) or all of an analyst's; `revoked` is empty when there was none. */
  revokeTokens(name: string, tokenId?: string): Promise<{ name: string; revoked: string[] }>;
  /** Sets, replaces or (without `sshKey`) removes an analyst's SSH public key; `changed` is false when it already was so. */
  setSshKey(name: string, sshKey?: string): Promise<{ name: string; changed: boolean; sshKey?: { fingerprint: string; type: string } }>;
  /** Subscribes (or unsubscribes) an analyst to a dataset of instance.yaml; `changed` is false when it already was so. */
  subscribe(name: string, dataset: string, subscribe: boolean): Promise<{ name: string; dataset: string; changed: boolean }>;
}

/** What the analysts API works with. */
export interface AnalystsDeps {
  config: AdaConfig;
  runner: ProjectionRunner;
  append(event: NewEvent): Promise<AppendResult>;
  eventSource: string;
}

/** The analysts API over a runner (the access projection) and the log. */
export function analystsApi(deps: AnalystsDeps): AnalystsApi {
  const { config, runner } = deps;
  const state = async (): Promise<AccessState> => {
    await runner.catchUp(accessProjection);
    return runner.stateOf(accessProjection);
  };
  // Appends a decided event and folds it; false when an identical change was already recorded (a concurrent command).
  const record = async (decision: Decision<NewEvent>): Promise<boolean> => {
    const result = await deps.append({ ...decision.event, key: decision.idempotencyKey, source: deps.eventSource });
    await runner.catchUp(accessProjection);
    return !result.duplicate;
  };
  return {
    async list() {
      return [...rolesOf(await state(), config).values()];
    },
    async add(input) {
      const decision = decideAddAnalyst(await state(), config, input);
      if (!(await record(decision))) throw accessError(AccessErrorCode.analystExists, `analyst ${input.name} was just added by another command`, { name: input.name });
      const { data } = decision.event;
      return {
        name: data.name, role: input.role,
        ...(data.email !== undefined ? { email: data.email } : {}),
        ...(decision.sshKey ? { sshKey: { fingerprint: decision.sshKey.fingerprint, type: decision.sshKey.type } } : {}),
      };
    },
    async remove(name) {
      const current = await state();
      const decision = decideRemoveAnalyst(current, config, name);
      const revokedTokens = Object.keys(current.analysts[name]?.tokens ?? {}).length;
      if (!(await record(decision))) throw accessError(AccessErrorCode.analystNotFound, `analyst ${name} was just removed by another command`, { name });
      return { name, revokedTokens };
    },
    async issueToken(name) {
      const decision = decideIssueToken(await state(), config, name);
      await record(decision);
      return { name, tokenId: decision.token.tokenId, token: decision.token.token };
    },
    async revokeTokens(name, tokenId) {
      const decision = decideRevokeTokens(await state(), config, name, tokenId);
      if (!decision) return { name, revoked: [] };
      // A duplicate means a concurrent command revoked the same tokens: the outcome is the same.
      await record(decision);
      return { name, revoked: decision.revoked };
    },
    async setSshKey(name, sshKey) {
      const decision = decideChangeSshKey(await state(), config, name, sshKey, deps.eventSource);
      // A duplicate means a concurrent command made the same change: the outcome is the same.
      if (decision) await record(decision);
      const key = (await state()).analysts[name]?.sshKey;
      const fingerprint = key !== undefined ? sshKeyFingerprint(key) : undefined;
      return { name, changed: Boolean(decision), ...(key !== undefined && fingerprint !== undefined ? { sshKey: { fingerprint, type: key.split(' ')[0]! } } : {}) };
    },
    async subscribe(name, dataset, subscribe) {
      const decision = decideSubscription(await state(), config, name, dataset, subscribe, Object.keys(config.instance.datasets), (d) => config.instance.datasets[d]?.requires ?? []);
      if (decision) await record(decision);
      return { name, dataset, changed: Boolean(decision) };
    },
  };
}
