/** Runs the `ada` CLI in-process (fast) or as a child process (real), capturing its output. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../ops/cli.ts';

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ada …args` in this process with its own environment. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main({
    argv: args,
    env: { PATH: process.env.PATH, ...env },
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    isTTY: false,
    signal: new AbortController().signal,
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** Path of the `ada` executable. */
export const ADA_BIN = fileURLToPath(new URL('../../bin/ada.js', import.meta.url));

/** Runs the real `ada` executable as a child process. */
export function spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [ADA_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    proc.stdin.end(options.input ?? '');
  });
}
