/** The first sign-in of an allowed person records them as an analyst (an `AnalystAdded` event); later sign-ins find them by email. */
import type { AdaConfig } from '../../config/index.ts';
import { adaError } from '../../events/index.ts';
import { decideAddAnalyst, validateAnalystName } from '../../pipeline/index.ts';
import type { AccessState } from '../../pipeline/index.ts';
import type { AppDeps } from '../deps.ts';
import { baseName, freeName } from './sign-in-policy.ts';
import { PortalErrorCode } from '../errors.ts';

function validName(name: string): boolean {
  try {
    validateAnalystName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The analyst name and generation for a signed-in email, recording a new analyst when needed. A
 * local part equal to an `admins` username maps to that admin only for the allowed domain (whose
 * mailboxes the organisation controls), never for an allow-listed outside address.
 */
export async function enroll(deps: Pick<AppDeps, 'config' | 'append'> & { access(): Promise<AccessState> }, email: string, via: 'domain' | 'allow-list'): Promise<{ name: string; gen: number }> {
  const config: AdaConfig = deps.config;
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await deps.access();
    const existing = Object.values(state.analysts).find((a) => a.email === email);
    if (existing) return { name: existing.name, gen: existing.generation };
    if (!deps.append) throw adaError(PortalErrorCode.unavailable, 'this server cannot record new analysts (read-only)');
    const admins = new Set(config.instance.admins.map((a) => a.username));
    const base = baseName(email);
    const name = via === 'domain' && admins.has(base) && !Object.hasOwn(state.analysts, base) && validName(base)
      ? base
      : freeName(base, (n) => !Object.hasOwn(state.analysts, n) && !admins.has(n) && validName(n));
    const decision = decideAddAnalyst(state, config, { name, role: 'analyst', email });
    await deps.append({ ...decision.event, key: decision.idempotencyKey, source: 'portal:sign-in' });
    // Two first sign-ins racing for one name: the first event wins; the other person gets the next free name.
    const after = await deps.access();
    const mine = after.analysts[name];
    if (mine?.email === email) return { name, gen: mine.generation };
  }
  throw adaError(PortalErrorCode.conflict, `could not record an analyst for ${email}; try signing in again`);
}
