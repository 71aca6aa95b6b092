/** Which configuration keys hold secrets, and masking them in text and in the loaded config. */
import type { AdaConfig } from './types.ts';

/** Keys of instance.yaml whose values are secrets (plus any key naming a token, secret or password). */
export const SECRET_KEYS: readonly string[] = [
  'storage_token', 'api_token', 'webhook_secret', 'google_client_secret', 'webapp_secret_key', 'sla_api_token',
];

const SECRET_WORD = /token|secret|password|passwd/i;

/** True when a key (snake_case or camelCase) or variable name holds a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.includes(key) || SECRET_WORD.test(key);
}

/** The replacement printed instead of a secret. */
export const MASK = '***';

/**
 * Encoded forms shorter than this are not masked on their own: a short form could match ordinary text,
 * and the raw secret is masked whatever its length.
 */
const MIN_ENCODED_FORM = 8;

/**
 * The forms a secret takes in text: as is, URL-encoded (path and form style), and base64 / base64url at each of
 * the three byte alignments it can have inside a longer encoded value (only the characters that depend on the
 * secret's bytes alone, so the form matches whatever surrounds it).
 */
export function secretForms(secret: string): string[] {
  if (secret === '') return [];
  const forms = new Set<string>([secret]);
  const add = (form: string): void => {
    if (form.length >= MIN_ENCODED_FORM) forms.add(form);
  };
  const uri = encodeURIComponent(secret);
  add(uri);
  add(uri.replace(/%20/g, '+'));
  add(uri.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
  const bytes = Buffer.from(secret, 'utf8');
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    // Characters before `lead` mix in the padding bytes; the tail after `stable` mixes in what follows.
    const lead = Math.ceil((pad * 8) / 6);
    const stable = Math.floor(((pad + bytes.length) * 8) / 6);
    const core = encoded.slice(lead, stable);
    add(core);
    add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms];
}

/** Replaces every occurrence of each secret, and of its encoded forms, in `text` with `***` (longest first). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const ordered = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of ordered) out = out.split(form).join(MASK);
  return out;
}

/**
 * A masked excerpt: secrets are masked on the whole text first and only then is it cut to `maxChars`, so a
 * cut can never leave a secret's first characters behind.
 */
export function maskedExcerpt(text: string, secrets: readonly string[], maxChars: number): string {
  const masked = maskSecrets(text, secrets);
  return masked.length <= maxChars ? masked : `${masked.slice(0, Math.max(0, maxChars - 1))}…`;
}

/**
 * The loaded configuration as plain data for printing (`ada config check`):
 * under `instance`, values of secret keys become `***`; secret values
 * anywhere are masked; undefined fields are dropped and the `secrets` list
 * itself is left out. (Key-based masking stays inside `instance`: elsewhere
 * keys are user data, e.g. a bucket called `in.c-secrets` in folderMapping.)
 */
export function describeConfig(config: AdaConfig): Record<string, unknown> {
  const secrets = config.secrets;
  const scrub = (value: unknown, key: string | undefined, byKey: boolean): unknown => {
    if (typeof value === 'string') {
      if (byKey && key !== undefined && isSecretKey(key) && value !== '') return MASK;
      return maskSecrets(value, secrets);
    }
    if (Array.isArray(value)) return value.map((item) => scrub(item, undefined, byKey));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined) out[k] = scrub(v, k, byKey);
      }
      return out;
    }
    return value;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'secrets' || v === undefined) continue;
    out[k] = scrub(v, k, k === 'instance');
  }
  return out;
}
