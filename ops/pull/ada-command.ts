/** How to start this `ada` again (for `.mcp.json`): node and the bin/ada.js of this checkout or install. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `[node, …/bin/ada.js]`, or `['ada']` when the entry point cannot be found. */
export function adaCommand(): string[] {
  // ops/pull/ from sources, dist/ops/pull/ from the build.
  for (const rel of ['../../bin/ada.js', '../../../bin/ada.js']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return [process.execPath, file];
  }
  return ['ada'];
}
