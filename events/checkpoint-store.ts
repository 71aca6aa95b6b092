/** Checkpoints of projections: how far each has folded the log, saved atomically. */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { adaError, ErrorCode } from './errors.ts';

/** A projection's saved progress. */
export interface Checkpoint<S = unknown> {
  /** Last position folded into `state` and flushed by the sink. */
  position: number;
  /** The projection's version; a different version means rebuild from position 0. */
  version: number;
  /** Small projection state, when the projection keeps it in the checkpoint. */
  state?: S;
  savedAt: string;
}

const SAFE_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** Stores one JSON file per projection under a directory, written with write-file-atomic (fsync on). */
export class CheckpointStore {
  readonly dir: string;
  private readonly readOnly: boolean;

  /** `readOnly`: loads checkpoints but never writes (for a process that is not the log's writer). */
  constructor(dir: string, options: { readOnly?: boolean } = {}) {
    this.dir = path.resolve(dir);
    this.readOnly = options.readOnly ?? false;
  }

  private file(name: string): string {
    if (!SAFE_NAME.test(name)) throw adaError(ErrorCode.badArgument, `not a valid projection name: ${JSON.stringify(name)}`);
    return path.join(this.dir, `${name}.json`);
  }

  /** The saved checkpoint, or undefined when the projection never ran. */
  async load<S = unknown>(name: string): Promise<Checkpoint<S> | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as Checkpoint<S>;
    } catch {
      throw adaError('CHECKPOINT_CORRUPT', `checkpoint ${this.file(name)} is not valid JSON; delete it to rebuild the projection from the log`);
    }
  }

  /** Saves a checkpoint atomically and durably. */
  async save<S>(name: string, checkpoint: Omit<Checkpoint<S>, 'savedAt'>): Promise<void> {
    if (this.readOnly) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file(name), JSON.stringify({ ...checkpoint, savedAt: new Date().toISOString() }), { fsync: true, mode: 0o600 });
  }

  /** Forgets a projection's checkpoint (the next run rebuilds it from the log). */
  async remove(name: string): Promise<void> {
    if (this.readOnly) return;
    await rm(this.file(name), { force: true });
  }
}
