/** Public face of `config/`: loading and validating the instance configuration. */
export { ConfigErrorCode } from './errors.ts';
export type * from './types.ts';
export { catalogTable, catalogTables, withDeclaredTables } from './declared-tables.ts';
export type { DeclaredTable, DeclaredTables } from './declared-tables.ts';
export { datasetIsPrivate } from './dataset-privacy.ts';
export type { DatasetPrivacyConfig } from './dataset-privacy.ts';
export { loadConfig, INSTANCE_FILE, DOTENV_FILE, DESCRIPTION_FILE } from './load-config.ts';
export type { LoadConfigOptions } from './load-config.ts';
export { describeConfig, isSecretKey, maskedExcerpt, maskSecrets, MASK, SECRET_KEYS, secretForms } from './secrets.ts';
export { formatProblem } from './problems.ts';
export { isSafePathSegment, unsafePathSegmentReason } from './safe-path-segment.ts';
export { validateCron } from './cron-schedule.ts';
export { parseDotenv } from './parse-dotenv.ts';
export { resolvePlaceholders, yamlLiteral } from './placeholders.ts';
export type { ConnectorConfigDeclaration, ReadWhen, SectionContext, SectionPlace, TableKeysContext } from './connector-config.ts';
export type { DocumentContext, YamlPath } from './problems.ts';
export { formatPath } from './problems.ts';
export {
  isAbsent, isYamlMap, readBoolean, readEnum, readInteger, readList, readMap, readString, readStringList, warnUnknownKeys,
} from './read-fields.ts';
export type { YamlMap } from './read-fields.ts';
export { isHttpUrl, readSchedule } from './load-instance.ts';
export { extractFencedYamlBlocks } from './fenced-yaml-blocks.ts';
export { MAX_CONFIG_FILE_BYTES } from './read-config-file.ts';
