/** Who may sign in (verified email of the allowed domain, or on the allow-list) and the analyst name a new person gets. */
import type { AdaConfig } from '../../config/index.ts';

/** The verdict on a signed-in identity. */
export type SignInVerdict =
  | { ok: true; email: string; via: 'domain' | 'allow-list' }
  | { ok: false; reason: string };

/** Decides whether the claims of a verified id token may sign in. */
export function checkSignIn(claims: Record<string, unknown>, auth: AdaConfig['instance']['auth']): SignInVerdict {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  if (!email || !email.includes('@')) return { ok: false, reason: 'The sign-in provider did not share an email address with us (the scope "email" is needed).' };
  if (claims.email_verified !== true && claims.email_verified !== 'true') {
    return { ok: false, reason: `Your email address ${email} is not verified with the sign-in provider. Verify it there, then sign in again.` };
  }
  if (auth.allowedEmails.includes(email)) return { ok: true, email, via: 'allow-list' };
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (auth.allowedDomain && domain === auth.allowedDomain) return { ok: true, email, via: 'domain' };
  return {
    ok: false,
    reason: `${email} may not sign in here: only addresses at @${auth.allowedDomain || '(no domain configured)'} and addresses an administrator has listed are allowed. Ask an administrator to add yours to auth.allowed_emails.`,
  };
}

/** Longest name we derive, leaving room for a collision suffix within the 32-character limit. */
const NAME_BASE_CHARS = 28;

/** The base analyst name for an email: its local part, lower-case ASCII letters, digits, `-` and `_`, starting with a letter. */
export function baseName(email: string): string {
  const local = email.slice(0, email.lastIndexOf('@') >= 0 ? email.lastIndexOf('@') : undefined).toLowerCase();
  let name = local.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9_-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '');
  name = name.slice(0, NAME_BASE_CHARS).replace(/-+$/, '');
  return name.length >= 2 ? name : `user${name}`;
}

/** The first free name among `base`, `base2`, `base3`, … (`free` says whether a name may be used). */
export function freeName(base: string, free: (name: string) => boolean): string {
  if (free(base)) return base;
  for (let i = 2; i < 10_000; i++) if (free(`${base}${i}`)) return `${base}${i}`;
  throw new Error(`no free analyst name for ${base}`);
}
