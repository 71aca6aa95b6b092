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

/** Replaces every occurrence of each secret in `text` with `***` (longest secrets first). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const ordered = [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of ordered) out = out.split(secret).join(MASK);
  return out;
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
