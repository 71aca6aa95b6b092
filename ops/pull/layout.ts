/**
 * The analyst's folder: `server/` (a symlink to the last complete version under `.ada/versions/`, swapped
 * atomically), `user/` (theirs, except `user/duckdb/analytics.duckdb`), the guides, and `.ada/` (settings,
 * verified-file state, partial downloads).
 */
import path from 'node:path';

/** Paths of an analyst folder. */
export interface PullLayout {
  dir: string;
  server: string;
  meta: string;
  settings: string;
  state: string;
  manifest: string;
  versions: string;
  partial: string;
  duckdb: string;
}

/** The layout of `dir`. */
export function pullLayout(dir: string): PullLayout {
  const root = path.resolve(dir);
  const meta = path.join(root, '.ada');
  return {
    dir: root,
    server: path.join(root, 'server'),
    meta,
    settings: path.join(meta, 'settings.json'),
    state: path.join(meta, 'state.json'),
    manifest: path.join(meta, 'manifest.json'),
    versions: path.join(meta, 'versions'),
    partial: path.join(meta, 'partial'),
    duckdb: path.join(root, 'user', 'duckdb', 'analytics.duckdb'),
  };
}
