/** `ada config check`: load the configuration and print it with secrets masked, or every problem. */
import { stringify } from 'yaml';
import { describeConfig, formatProblem, maskSecrets } from '../../config/index.ts';
import { loadConfig } from '../../connectors/index.ts';
import type { ConfigProblem } from '../../config/index.ts';
import { ErrorCode, hasCode } from '../../events/index.ts';

/** Exit code for a configuration that is missing or invalid (the CLI's usage/config error code). */
export const EXIT_CONFIG_INVALID = 2;

/**
 * Loads and validates the configuration in `configDir` (else `env.CONFIG_DIR`,
 * else ./config). Valid: prints it as YAML (or JSON with `json`) with every
 * secret replaced by `***` (warnings as leading `# warning:` comments in YAML,
 * a `warnings` list in JSON) and returns 0. Invalid or missing: prints one
 * `file:line: path: message` line per problem (or `{ "problems": [...] }`)
 * and returns 2. Other failures (unreadable files) are thrown.
 */
export async function configCheck(opts: { configDir?: string; env: NodeJS.ProcessEnv; json?: boolean; out: (s: string) => void }): Promise<number> {
  let config;
  try {
    config = await loadConfig({ configDir: opts.configDir, env: opts.env });
  } catch (err) {
    let problems: ConfigProblem[];
    if (hasCode(err, ErrorCode.configInvalid)) problems = err.details.problems as ConfigProblem[];
    else if (hasCode(err, ErrorCode.configMissing)) problems = [{ file: String(err.details.file), message: 'not found; pass --config DIR or set CONFIG_DIR to the directory holding instance.yaml' }];
    else throw err;
    opts.out(opts.json ? JSON.stringify({ problems }, null, 2) : problems.map(formatProblem).join('\n'));
    return EXIT_CONFIG_INVALID;
  }

  const described = describeConfig(config);
  if (opts.json) {
    opts.out(JSON.stringify(described, null, 2));
  } else {
    const { warnings: _warnings, ...shown } = described;
    // Warnings first, as YAML comments, so the output stays loadable YAML.
    const notes = (config.warnings ?? []).map((w) => `# warning: ${maskSecrets(formatProblem(w), config.secrets)}`);
    opts.out([...notes, stringify(shown, { lineWidth: 0 }).trimEnd()].join('\n'));
  }
  return 0;
}
