#!/usr/bin/env node
// Writes dist/.build-stamp after `tsc` (run by `npm run build`): every source directory and file (.ts, and the
// portal's assets, which the build copies) with its
// modification time. bin/ada.js then decides whether dist/ is fresh by stat-ing exactly these paths, with no
// directory walk: an edited file changes its own time, an added, removed or renamed one its directory's.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders compiled into dist/ (tsconfig.build.json's `include`). */
export const SOURCE_DIRS = ['events', 'pipeline', 'connectors', 'portal', 'ops', 'config'];

/** Source directories and files under `root`, relative to it: .ts files and everything the build copies (assets). */
export function sourcePaths(root) {
  const dirs = [];
  const files = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    dirs.push(rel);
    for (const e of entries) {
      if (e.isDirectory()) walk(path.join(rel, e.name));
      else if (e.isFile()) files.push(path.join(rel, e.name));
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return { dirs, files };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const { dirs, files } = sourcePaths(root);
  const newest = Math.max(0, ...[...dirs, ...files].map((p) => statSync(path.join(root, p)).mtimeMs));
  writeFileSync(path.join(root, 'dist', '.build-stamp'), `${JSON.stringify({ builtAt: new Date().toISOString(), newest, dirs, files })}\n`);
}
