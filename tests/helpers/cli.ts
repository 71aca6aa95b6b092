/** Runs the `ada` CLI in-process (fast) or as a child process (real), capturing its output. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
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

/** Runs `ada …args` in this process and fails the test, with its output, unless it exits 0. */
export async function runCliOk(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await runCli(args, env);
  if (result.code !== 0) throw new Error(`ada ${args.join(' ')} exited ${result.code}:\n${result.stderr}\n${result.stdout}`.trim());
  return result;
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

/** A running `ada serve` child process and its base URL. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Sends SIGINT and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `ada serve --port 0` with the given flags (and variables added to the environment), waits until it listens; killed when the test ends. */
export async function startServe(t: Pick<TestContext, 'after'>, flags: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [ADA_BIN, 'serve', '--port', '0', ...flags], { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: { ...process.env, ...options.env } } : {}) });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    url,
    child,
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
