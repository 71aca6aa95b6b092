/** The `ada` command line: the dispatcher of ops/command-main.ts, and the secret-argument scan with the configuration's rule. */
import { pathToFileURL } from 'node:url';
import { isSecretKey } from '../config/index.ts';
import { secretArgValuesWith, runFromProcess } from './command-main.ts';

export { abortOnSignals, COMMANDS, helpText, main, runFromProcess } from './command-main.ts';

/**
 * Values of options whose name says they are secrets (`--token X`, `--token=X`, `--storage-token X`,
 * `--password=…`), so no error message can echo them, whatever the command or the mistake.
 */
export function secretArgValues(argv: readonly string[]): string[] {
  return secretArgValuesWith(argv, isSecretKey);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runFromProcess();
