/** Public face of `config/`: loading and validating the instance configuration. */
export type * from './types.ts';
export { loadConfig, INSTANCE_FILE, DOTENV_FILE, DESCRIPTION_FILE } from './load-config.ts';
export type { LoadConfigOptions } from './load-config.ts';
export { describeConfig, isSecretKey, maskedExcerpt, maskSecrets, MASK, SECRET_KEYS, secretForms } from './secrets.ts';
export { formatProblem } from './problems.ts';
export { isSafePathSegment, unsafePathSegmentReason } from './safe-path-segment.ts';
export { validateCron } from './validate-cron.ts';
export { parseDotenv } from './parse-dotenv.ts';
export { resolvePlaceholders } from './placeholders.ts';
