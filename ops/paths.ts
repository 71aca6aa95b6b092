/** Where the data directory is: `--data`, else `$DATA_DIR`, else `./data`. */
import path from 'node:path';

/** Resolves the data directory from the flag and the environment. */
export function dataDirOf(flag: unknown, env: NodeJS.ProcessEnv): string {
  return path.resolve(typeof flag === 'string' && flag ? flag : env.DATA_DIR || 'data');
}

/** Resolves the configuration directory as the config loader does: `--config`, else `$CONFIG_DIR`, else `./config`. */
export function configDirOf(flag: unknown, env: NodeJS.ProcessEnv): string {
  return path.resolve(typeof flag === 'string' && flag ? flag : env.CONFIG_DIR || 'config');
}
