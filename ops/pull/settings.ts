/** Server URL and token of an analyst folder, stored on the first pull (mode 600) so later runs need no flags. */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { adaError } from '../../events/index.ts';
import { writeAtomic } from './atomic-write.ts';

/** What `.ada/settings.json` holds. */
export interface PullSettings {
  server: string;
  token: string;
}

/** Reads the stored settings, or undefined before the first pull. */
export async function readSettings(file: string): Promise<Partial<PullSettings>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<PullSettings>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw adaError('CONFIG_INVALID', `${file} is not valid JSON; delete it and pull again with --server and --token`);
  }
}

/** Resolves server and token from flags, the environment and the stored file; stores what changed. */
export async function resolveSettings(file: string, given: { server?: string; token?: string }, env: NodeJS.ProcessEnv): Promise<PullSettings> {
  const stored = await readSettings(file);
  const server = (given.server ?? stored.server)?.replace(/\/+$/, '');
  const token = given.token ?? env.ADA_TOKEN ?? stored.token;
  if (!server) throw adaError('BAD_ARGUMENT', 'no server yet: run `ada pull --server https://BROKER --token ada_…` once (the token comes from your admin: `ada analyst token NAME`)');
  if (!token) throw adaError('BAD_ARGUMENT', 'no token: pass --token ada_… or set $ADA_TOKEN once; it is stored for later pulls');
  if (!/^https?:\/\//.test(server)) throw adaError('BAD_ARGUMENT', `--server expects an http(s) URL, got ${JSON.stringify(server)}`);
  if (server !== stored.server || token !== stored.token) {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeAtomic(file, `${JSON.stringify({ server, token }, null, 2)}\n`, 0o600);
    await chmod(file, 0o600);
  }
  return { server, token };
}
