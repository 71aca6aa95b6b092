/** Resolves a credential: analyst tokens through the broker's `authenticate`, portal session tickets against the access state. */
import type { AdaConfig } from '../../config/index.ts';
import { rolesOf } from '../../pipeline/index.ts';
import type { AccessState } from '../../pipeline/index.ts';
import type { Authenticate, PortalPrincipal } from '../auth-plugin.ts';
import { verifyTicket } from './session.ts';

/** Name of the local admin of `auth.mode: dev`. */
export const DEV_ADMIN = 'dev-admin';

/** The analyst (or configured admin) a session may be issued for: their current role and generation. */
export function memberOf(state: AccessState, config: AdaConfig, name: string): (PortalPrincipal & { gen: number }) | undefined {
  if (config.instance.auth.mode === 'dev' && name === DEV_ADMIN) return { name, role: 'admin', gen: state.analysts[DEV_ADMIN]?.generation ?? 0 };
  const m = rolesOf(state, config).get(name);
  return m ? { name: m.name, role: m.role, gen: m.analyst?.generation ?? 0 } : undefined;
}

/** The combined resolver the auth plugin and the notification gateway use. */
export function portalAuthenticate(config: AdaConfig, tokens: Authenticate, access: () => Promise<AccessState>): Authenticate {
  const secret = config.instance.auth.webappSecretKey;
  const bySession = async (session: string): Promise<PortalPrincipal | undefined> => {
    const ticket = verifyTicket(secret, session);
    if (!ticket) return undefined;
    const member = memberOf(await access(), config, ticket.name);
    // A removed and re-added analyst is a new generation: sessions of the old one stay ended.
    if (!member || member.gen !== ticket.gen) return undefined;
    return { name: member.name, role: member.role };
  };
  // Not async: a token the resolver knows at once is answered without a promise.
  return (credential) => {
    if (credential.token) return tokens({ token: credential.token });
    return credential.session ? bySession(credential.session) : undefined;
  };
}
