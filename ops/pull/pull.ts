/**
 * One pull: fetch the manifest, keep every local file that still matches it (without hashing what was
 * verified before), download the rest several at a time with resume, verify every checksum, then swap
 * `server/` to the new complete version in one rename. A pull killed midway leaves the previous version
 * in place and its partial downloads for the next pull to resume.
 */
import { copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { adaError, isPlainRelativePath } from '../../events/index.ts';
import type { AnalystManifest, ManifestFile } from '../../pipeline/index.ts';
import { distributionClient } from './http-client.ts';
import type { DistributionClient } from './http-client.ts';
import { pullLayout } from './layout.ts';
import type { PullLayout } from './layout.ts';
import { readLocalState, verifyLocal, writeLocalState } from './local-state.ts';
import type { LocalState, VerifiedFile } from './local-state.ts';

/** Downloads at once: enough to fill a fast link with many small files, few enough for the broker. */
export const PULL_CONCURRENCY = 6;

/** Options of a pull. */
export interface PullOptions {
  dir: string;
  server: string;
  token: string;
  dryRun?: boolean;
  /** Called as bytes arrive (progress bar). */
  onProgress?: (p: PullProgress) => void;
  concurrency?: number;
}

/** Progress of the downloads. */
export interface PullProgress {
  files: number;
  filesDone: number;
  bytes: number;
  bytesDone: number;
}

/** What a pull did (or, with `dryRun`, would do). */
export interface PullResult {
  position: number;
  downloaded: string[];
  kept: number;
  removed: string[];
  bytes: number;
  resumedBytes: number;
  /** True when `server/` changed (a new version was published). */
  changed: boolean;
  manifest: AnalystManifest;
  layout: PullLayout;
}

/** The version folder `server/` points at now, or undefined before the first pull. */
async function currentVersion(layout: PullLayout): Promise<string | undefined> {
  try {
    const info = await lstat(layout.server);
    if (info.isSymbolicLink()) return path.resolve(path.dirname(layout.server), await readlink(layout.server));
    if (info.isDirectory()) {
      // A folder from an older setup (rsync): adopt it as the current version.
      await mkdir(layout.versions, { recursive: true });
      const adopted = path.join(layout.versions, 'adopted');
      await rename(layout.server, adopted);
      await symlink(path.relative(layout.dir, adopted), layout.server);
      return adopted;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return undefined;
}

/** Runs `fn` over `items`, at most `n` at a time; the first error stops handing out new items and is thrown. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/** Creates folders, each once: a pull of many files in few folders asks for each folder once, not once per file. */
function folderMaker(): (dir: string) => Promise<void> {
  const made = new Map<string, Promise<unknown>>();
  return async (dir) => {
    let p = made.get(dir);
    if (!p) made.set(dir, p = mkdir(dir, { recursive: true }));
    await p;
  };
}

async function placeKept(from: string, to: string, makeFolder: (dir: string) => Promise<void>): Promise<void> {
  await makeFolder(path.dirname(to));
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

/** Attempts of a pull whose files are republished while it runs (each attempt reads the manifest again). */
const MAX_ATTEMPTS = 4;

/** Pulls into `opts.dir` (the caller holds `lockPull`); starts over with a fresh manifest when a file changed on the broker meanwhile. */
export async function pull(opts: PullOptions): Promise<PullResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pullOnce(opts);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt >= MAX_ATTEMPTS || (code !== 'REPUBLISHED' && code !== 'CHECKSUM_MISMATCH')) throw err;
    }
  }
}

async function pullOnce(opts: PullOptions): Promise<PullResult> {
  const layout = pullLayout(opts.dir);
  const client: DistributionClient = distributionClient(opts.server, opts.token, opts.concurrency ?? PULL_CONCURRENCY);
  try {
    const manifest = await client.manifest();
    // Paths become files under server/: one that could climb out of it (a broken or hostile server) stops the pull.
    const odd = manifest.files.find((f) => !isPlainRelativePath(f.path));
    if (odd) throw adaError('BAD_REQUEST', `the server's manifest lists a path that is not a plain relative path: ${JSON.stringify(odd.path.slice(0, 200))}; nothing was changed`);
    const current = await currentVersion(layout);
    const state: LocalState = await readLocalState(layout.state);
    const kept: Array<{ file: ManifestFile; verified: VerifiedFile }> = [];
    const missing: ManifestFile[] = [];
    for (const file of manifest.files) {
      const verified = current ? await verifyLocal(path.join(current, file.path), file.sha256, file.size, state.files[file.path]) : undefined;
      if (verified) kept.push({ file, verified });
      else missing.push(file);
    }
    const wanted = new Set(manifest.files.map((f) => f.path));
    const removed = Object.keys(state.files).filter((p) => !wanted.has(p)).sort();
    const bytes = missing.reduce((s, f) => s + f.size, 0);
    const base = { position: manifest.position, kept: kept.length, removed, bytes, manifest, layout, downloaded: missing.map((f) => f.path) };
    const unchanged = current !== undefined && missing.length === 0 && removed.length === 0 && Object.keys(state.files).length === manifest.files.length;
    if (opts.dryRun || unchanged) {
      if (!opts.dryRun) {
        await writeLocalState(layout.state, { files: Object.fromEntries(kept.map((k) => [k.file.path, k.verified])) });
        await writeFile(layout.manifest, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
      }
      return { ...base, resumedBytes: 0, changed: false };
    }

    await mkdir(layout.partial, { recursive: true, mode: 0o700 });
    await mkdir(layout.versions, { recursive: true, mode: 0o700 });
    // Leftovers of a killed pull: half-built versions go (their finished files are re-verified from partial/ names).
    for (const name of await readdir(layout.versions)) {
      const dir = path.join(layout.versions, name);
      if (dir !== current) await rm(dir, { recursive: true, force: true });
    }
    const version = path.join(layout.versions, `${manifest.position}-${Date.now().toString(36)}`);
    const staging = `${version}.partial`;
    await mkdir(staging, { recursive: true });
    const next: LocalState = { files: {} };
    const makeFolder = folderMaker();
    for (const { file, verified } of kept) {
      await placeKept(path.join(current!, file.path), path.join(staging, file.path), makeFolder);
      next.files[file.path] = verified;
    }
    const progress: PullProgress = { files: missing.length, filesDone: 0, bytes, bytesDone: 0 };
    let resumedBytes = 0;
    // Files with the same bytes (one attachment on two issues) share their partial download: one is downloaded, the
    // others are placed from it once it is verified.
    const copies = new Map<string, ManifestFile[]>();
    const unique = missing.filter((f) => {
      const same = copies.get(f.sha256);
      if (same) same.push(f);
      else copies.set(f.sha256, []);
      return !same;
    });
    // Partial downloads of earlier pulls, listed once: a file without one is not stat-ed for it.
    const partials = new Set(await readdir(layout.partial));
    // Twice as many files in flight as downloads at once (the client's agent bounds the sockets): a file whose bytes
    // are being hashed holds no socket, and the next download starts meanwhile.
    await pool(unique, 2 * (opts.concurrency ?? PULL_CONCURRENCY), async (file) => {
      const dest = path.join(staging, file.path);
      await makeFolder(path.dirname(dest));
      const name = `${file.sha256}.part`;
      const done = await client.download(file, path.join(layout.partial, name), dest, (n) => {
        progress.bytesDone += n;
        opts.onProgress?.(progress);
      }, !partials.has(name));
      resumedBytes += done.resumed;
      progress.bytesDone += done.resumed;
      progress.filesDone++;
      opts.onProgress?.(progress);
      next.files[file.path] = { size: done.size, mtimeMs: done.mtimeMs, sha256: file.sha256 };
      for (const copy of copies.get(file.sha256) ?? []) {
        const to = path.join(staging, copy.path);
        await placeKept(dest, to, makeFolder);
        const placed = await lstat(to);
        next.files[copy.path] = { size: placed.size, mtimeMs: placed.mtimeMs, sha256: copy.sha256 };
        progress.bytesDone += copy.size;
        progress.filesDone++;
      }
    });
    await rename(staging, version);
    await writeFile(layout.manifest, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    // The swap: a new symlink renamed over the old one is atomic; readers see the old or the new version whole.
    const link = path.join(layout.meta, 'server.next');
    await rm(link, { force: true });
    await symlink(path.relative(layout.dir, version), link);
    await rename(link, layout.server);
    await writeLocalState(layout.state, next);
    if (current && current !== version) await rm(current, { recursive: true, force: true });
    // Every partial download is linked into the version now (or was of a version no longer wanted).
    await rm(layout.partial, { recursive: true, force: true });
    return { ...base, resumedBytes, changed: true };
  } finally {
    client.close();
  }
}
