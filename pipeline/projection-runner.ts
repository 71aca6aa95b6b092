/** Feeds projections from the log: catch-up from the checkpoint, flush the sink, then save the checkpoint. */
import { concatMap, lastValueFrom } from 'rxjs';
import type { CheckpointStore, EventLog, EventLogReader, RecordedEvent } from '../events/index.ts';
import type { Projection } from './projection.ts';

/** Events per sink flush during catch-up: bounds memory and the work redone after a crash. */
const CATCH_UP_BATCH = 5_000;

/** Where a projection stands. */
export interface ProjectionStatus {
  name: string;
  version: number;
  position: number;
}

type LogSource = Pick<EventLog, 'read$' | 'follow$'> | Pick<EventLogReader, 'read$' | 'follow$'>;

/** Runs projections over one log and checkpoint store. */
export class ProjectionRunner {
  private readonly states = new Map<string, unknown>();
  private readonly positions = new Map<string, number>();

  constructor(
    private readonly log: LogSource,
    private readonly checkpoints: CheckpointStore,
    private readonly dataDir: string,
  ) {}

  /** Last position a projection has flushed (after `catchUp` or `load`). */
  positionOf(name: string): number {
    return this.positions.get(name) ?? 0;
  }

  /** The in-memory state of a projection (after `catchUp`). */
  stateOf<S>(projection: Projection<S>): S {
    return (this.states.get(projection.name) as S | undefined) ?? projection.initialState();
  }

  /**
   * Loads the checkpoint. A changed version deletes the outputs and starts from 0; a missing
   * checkpoint starts from 0 over the outputs as they are (projections apply idempotently, and a
   * first run must not delete what the live path already wrote).
   */
  private async load<S>(p: Projection<S>): Promise<{ state: S; position: number; rebuilding: boolean }> {
    if (this.states.has(p.name)) return { state: this.states.get(p.name) as S, position: this.positions.get(p.name)!, rebuilding: false };
    const cp = await this.checkpoints.load<S>(p.name);
    if (cp && cp.version === p.version && (cp.state !== undefined || p.persistState === false)) {
      return { state: cp.state ?? p.initialState(), position: cp.position, rebuilding: false };
    }
    if (cp) await p.reset?.({ dataDir: this.dataDir });
    return { state: p.initialState(), position: 0, rebuilding: true };
  }

  /**
   * Runs the sink and saves the checkpoint. `checkpointIsSaved`: `state` and `position` are the saved checkpoint's, so
   * it is saved again only if the sink changed the state.
   */
  private async flush<S>(p: Projection<S>, state: S, position: number, rebuilding: boolean, options: { checkpointIsSaved?: boolean } = {}): Promise<S> {
    const next = ((await p.sink?.(state, { dataDir: this.dataDir, position, rebuilding })) ?? state) as S;
    const every = p.persistState === false ? p.checkpointEveryMs ?? 0 : 0;
    const now = performance.now();
    if (options.checkpointIsSaved && next === state) {
      // Nothing to save.
    } else if (every > 0 && !rebuilding && now - (this.savedAt.get(p.name) ?? -Infinity) < every) {
      this.unsaved.set(p.name, { position, version: p.version });
    } else {
      await this.checkpoints.save(p.name, { position, version: p.version, ...(p.persistState === false ? {} : { state: next }) });
      this.savedAt.set(p.name, now);
      this.unsaved.delete(p.name);
    }
    this.states.set(p.name, next);
    this.positions.set(p.name, position);
    return next;
  }

  /** When each projection with `checkpointEveryMs` last saved its checkpoint (`performance.now()`). */
  private readonly savedAt = new Map<string, number>();
  /** Positions flushed but not saved yet (`checkpointEveryMs`). */
  private readonly unsaved = new Map<string, { position: number; version: number }>();

  /** Saves the checkpoints `checkpointEveryMs` left unsaved (before a stop: a restart then redoes nothing). */
  async saveCheckpoints(): Promise<void> {
    await Promise.all([...this.unsaved.keys()].map((name) => this.serial(name, async () => {
      const cp = this.unsaved.get(name);
      if (!cp) return;
      await this.checkpoints.save(name, cp);
      this.savedAt.set(name, performance.now());
      this.unsaved.delete(name);
    })));
  }

  private readonly locks = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier call for the same projection: a projection is never folded twice at once. */
  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.locks.set(name, next);
    return next;
  }

  /** Folds every event after the checkpoint up to the current head, flushing in batches. Returns the position reached. */
  catchUp<S>(p: Projection<S>, onProgress?: (position: number) => void): Promise<number> {
    return this.serial(p.name, () => this.catchUpNow(p, onProgress));
  }

  private async catchUpNow<S>(p: Projection<S>, onProgress?: (position: number) => void): Promise<number> {
    const loaded = await this.load(p);
    const { position, rebuilding } = loaded;
    let state = loaded.state;
    const handles = new Set<string>(p.handles);
    let pending = 0;
    let last = position;
    let reached = position;
    // Events of other types are skipped unparsed; `reached` says how far the read went past the last handled one.
    await lastValueFrom(this.log.read$(position + 1, { types: p.handles, reached: (at) => void (reached = at) }).pipe(
      concatMap(async (e: RecordedEvent) => {
        last = e.position;
        if (!handles.has(e.type)) return;
        state = p.evolve(state, e);
        if (++pending >= CATCH_UP_BATCH) {
          state = await this.flush(p, state, last, rebuilding);
          pending = 0;
          onProgress?.(last);
        }
      }),
    ), { defaultValue: undefined });
    last = Math.max(last, reached);
    if (pending > 0 || last !== position || rebuilding) state = await this.flush(p, state, last, rebuilding);
    // The first catch-up in this process with nothing new still runs the sink (outputs that depend on the
    // configuration, which may have changed since), but the checkpoint on disk already says what it would save.
    else if (!this.states.has(p.name)) state = await this.flush(p, state, last, false, { checkpointIsSaved: true });
    return last;
  }

  /** Rebuilds a projection from position 0: aside and swapped in when it can, else deleting its outputs and checkpoint first. */
  rebuild<S>(p: Projection<S>, onProgress?: (position: number) => void): Promise<number> {
    return this.serial(p.name, async () => {
      this.states.delete(p.name);
      this.positions.delete(p.name);
      // A position left unsaved belongs to the outputs being rebuilt: saved later, it would skip the rebuild's events.
      this.unsaved.delete(p.name);
      if (p.rebuildAside) {
        const { position, state } = await p.rebuildAside({ dataDir: this.dataDir, read$: (from) => this.log.read$(from), ...(onProgress ? { onProgress } : {}) });
        await this.flush(p, state, position, true);
        return position;
      }
      await this.checkpoints.remove(p.name);
      await p.reset?.({ dataDir: this.dataDir });
      return this.catchUpNow(p, onProgress);
    });
  }
}
