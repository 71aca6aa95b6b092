/** Test helper: a throw-away directory tree holding a config directory and its neighbours. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AdaError } from '../../../events/index.ts';
import type { ConfigProblem } from '../../../config/index.ts';

/** A temp tree: `root/config/…`, `root/docs/…`; remove() deletes it. */
export interface TempConfig {
  root: string;
  configDir: string;
  file(relative: string): string;
  remove(): Promise<void>;
}

/** Writes `files` (paths relative to the tree root, e.g. `config/instance.yaml`) into a fresh temp dir. */
export async function tempConfig(files: Record<string, string>): Promise<TempConfig> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ada-config-test-'));
  for (const [relative, text] of Object.entries(files)) {
    const target = path.join(root, relative);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, text);
  }
  await mkdir(path.join(root, 'config'), { recursive: true });
  return {
    root,
    configDir: path.join(root, 'config'),
    file: (relative) => path.join(root, relative),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** 1-based line of the first line of `text` containing `needle` (throws when absent, so tests fail loudly). */
export function lineOf(text: string, needle: string, occurrence = 1): number {
  let seen = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.includes(needle) && ++seen === occurrence) return i + 1;
  }
  throw new Error(`"${needle}" (occurrence ${occurrence}) not found in test text`);
}

/** Runs `fn`, asserts it rejects with CONFIG_INVALID and returns the problems. */
export async function problemsOf(fn: () => Promise<unknown>): Promise<ConfigProblem[]> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AdaError && err.code === 'CONFIG_INVALID') return err.details.problems as ConfigProblem[];
    throw err;
  }
  throw new Error('expected CONFIG_INVALID, but the configuration loaded');
}

/** A minimal valid instance.yaml on a CSV source. */
export const MINIMAL_INSTANCE = [
  'instance:',
  '  name: Test',
  'auth:',
  '  allowed_domain: example.com',
  '  webapp_secret_key: a-long-enough-secret-key',
  'data_source:',
  '  type: csv',
  '  csv:',
  '    dir: ../data/csv',
  '',
].join('\n');

/** Wraps YAML as a fenced block inside a small markdown document (block text starts on line 4). */
export function markdownWith(...blocks: string[]): string {
  return ['# Data', '', ...blocks.flatMap((b) => ['```yaml', b.replace(/\n$/, ''), '```', 'Some prose.', ''])].join('\n');
}
