/**
 * The broker's side of the profiling process: spawns `profile-child.ts` (lazily, again after a crash), sends it one
 * job at a time, and kills it when a job outlives its timeout or is aborted. The process runs at a lower CPU
 * priority, so profiling a huge table never starves the broker.
 */
import type childProcess from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adaError } from '../../../events/index.ts';
import { ProfileErrorCode } from './engine.ts';
import type { ChildRequest, ChildResponse } from './engine.ts';
import type { ComputedProfile, EngineReport, EngineSettings, ProfileJob } from './types.ts';
import { PipelineErrorCode } from '../../errors.ts';

/** Running from the compiled build (dist/*.js) or from the TypeScript sources through tsx. */
const COMPILED = import.meta.url.endsWith('.js');
const CHILD_ENTRY = fileURLToPath(new URL(COMPILED ? './profile-child.js' : './profile-child.ts', import.meta.url));
/** From sources the child runs TypeScript through the same loader as the broker, resolved from here (not from the working directory). */
const LOADER_ARGS = COMPILED ? [] : ['--import', import.meta.resolve('tsx')];
/** V8 heap of the child: it only holds query results (one profile); DuckDB's memory is native and capped by memory_limit. */
const CHILD_HEAP_MB = 256;
/** nice(2) value of the child: profiling yields the CPU to syncs and the portal. */
const CHILD_NICENESS = 10;
/** How long close() waits for the child to exit before killing it. */
const CLOSE_GRACE_MS = 5_000;
/** Bytes of the child's stderr kept for a crash message. */
const STDERR_TAIL = 4_000;

interface Pending {
  id: number;
  table: string;
  resolve: (r: { profile: ComputedProfile; engine: EngineReport }) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  cleanup: () => void;
}

/** One profiling process, reused across jobs. */
export class ProfileWorker {
  #child: ChildProcess | undefined;
  #pending: Pending | undefined;
  #nextId = 1;
  #stderr = '';
  /** Why the parent killed the child, for the error of the job it was running. */
  #killReason: { code: string; message: string } | undefined;
  #exited: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(readonly settings: EngineSettings) {}

  /** Pid of the running profiling process, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #spawn(): ChildProcess {
    // Required here, not imported: every process that loads the pipeline loads this module, and node:child_process
    // (with net, dgram and their bindings) is a few ms of a standalone sync's start-up, which profiles nothing.
    const { spawn } = createRequire(import.meta.url)('node:child_process') as typeof childProcess;
    const child = spawn(process.execPath, [`--max-old-space-size=${CHILD_HEAP_MB}`, ...LOADER_ARGS, CHILD_ENTRY], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.#stderr = '';
    this.#killReason = undefined;
    try {
      if (child.pid !== undefined) os.setPriority(child.pid, CHILD_NICENESS);
    } catch {
      // Not permitted or not supported here: the child runs at normal priority.
    }
    child.stderr?.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-STDERR_TAIL);
    });
    child.on('message', (msg: ChildResponse) => {
      const p = this.#pending;
      if (!p || msg.id !== p.id) return;
      this.#settle();
      if (msg.ok) p.resolve({ profile: msg.profile, engine: msg.engine });
      else p.reject(adaError(msg.error.code, msg.error.message, { table: p.table }));
    });
    const pid = child.pid;
    this.#exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (why: string): void => {
        if (done) return;
        done = true;
        if (this.#child === child) this.#child = undefined;
        const p = this.#pending;
        if (p) {
          this.#settle();
          const tail = this.#stderr.trim().split('\n').slice(-3).join(' | ');
          const reason = this.#killReason ?? { code: ProfileErrorCode.crashed, message: `the profiling process of table ${p.table} ${why}${tail ? `: ${tail}` : ''}` };
          p.reject(adaError(reason.code, reason.message, { table: p.table }));
        }
        const spill = pid === undefined ? undefined : path.join(this.settings.tempDirectory, String(pid));
        (spill ? rm(spill, { recursive: true, force: true }) : Promise.resolve()).catch(() => undefined).finally(resolve);
      };
      child.once('exit', (code, signal) => finish(`ended unexpectedly (${signal ? `signal ${signal}, perhaps killed for memory` : `exit code ${code}`})`));
      // A process that never started emits 'error' and no 'exit'.
      child.on('error', (err) => {
        if (child.pid === undefined) finish(`could not be started: ${err.message}`);
      });
    });
    this.#child = child;
    return child;
  }

  #settle(): void {
    const p = this.#pending;
    if (!p) return;
    clearTimeout(p.timer);
    p.cleanup();
    this.#pending = undefined;
  }

  #kill(code: string, message: string): void {
    this.#killReason = { code, message };
    this.#child?.kill('SIGKILL');
  }

  /** Profiles one table in the profiling process; rejects with a coded error (PROFILE_TIMEOUT, PROFILE_CRASHED, …). */
  run(job: ProfileJob, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<{ profile: ComputedProfile; engine: EngineReport }> {
    if (this.#closed) return Promise.reject(adaError(PipelineErrorCode.closed, 'the profile worker is closed'));
    if (this.#pending) return Promise.reject(adaError(PipelineErrorCode.badArgument, 'the profile worker runs one job at a time'));
    if (opts.signal?.aborted) return Promise.reject(adaError(ProfileErrorCode.aborted, `profiling table ${job.table} was cancelled`, { table: job.table }));
    const child = this.#child ?? this.#spawn();
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const onAbort = (): void => this.#kill(ProfileErrorCode.aborted, `profiling table ${job.table} was cancelled`);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => {
        const limit = opts.timeoutMs < 1000 ? `${opts.timeoutMs} ms` : `${Math.round(opts.timeoutMs / 1000)} s`;
        this.#kill(ProfileErrorCode.timeout, `profiling table ${job.table} took longer than ${limit}; its profiling process was stopped`);
      }, opts.timeoutMs);
      this.#pending = { id, table: job.table, resolve, reject, timer, cleanup: () => opts.signal?.removeEventListener('abort', onAbort) };
      const request: ChildRequest = { id, job, settings: this.settings };
      child.send(request, (err) => {
        if (err && this.#pending?.id === id) this.#kill(ProfileErrorCode.crashed, `could not send the job of table ${job.table} to the profiling process: ${err.message}`);
      });
    });
  }

  /** Ends the profiling process (it exits when disconnected; killed after a grace period). */
  async close(): Promise<void> {
    this.#closed = true;
    const child = this.#child;
    if (child) {
      const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_GRACE_MS);
      if (child.connected) child.disconnect();
      else child.kill('SIGKILL');
      await this.#exited;
      clearTimeout(timer);
    } else {
      await this.#exited;
    }
  }
}
