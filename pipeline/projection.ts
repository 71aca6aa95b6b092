/** Projections: a pure fold over the events they handle plus a sink that does the I/O. */
import type { Observable } from 'rxjs';
import type { EventType, RecordedEvent } from '../events/index.ts';

/** A recorded event of one of the types `E`: what `evolve` of a projection handling `E` receives. */
// An intersection rather than `EventOf<E>`: it narrows the same, and keeps a projection of a few types a `Projection<S>`.
export type HandledEvent<E extends EventType> = RecordedEvent & { type: E };

/**
 * What a projection is for. A projector folds events into its state or into files (the catalog, health, Parquet
 * months); a reactor appends new events or calls the outside world in its sink (the Parquet writer, the profiler).
 */
export type ProjectionKind = 'projector' | 'reactor';

/** What a sink may use: where outputs go, and the position the state has folded up to. */
export interface SinkContext {
  dataDir: string;
  /** Last position folded into the state being flushed. */
  position: number;
  /** True while the runner rebuilds from position 0. */
  rebuilding: boolean;
}

/** What a projection that rebuilds aside is given: the data directory and the log to read. */
export interface RebuildContext {
  dataDir: string;
  /** Every event from `from` to the head at subscription time. */
  read$: (from: number) => Observable<RecordedEvent>;
  onProgress?: (position: number) => void;
}

/**
 * A projection over the event types `E`. `evolve` is pure (no I/O) and is given only events of `handles`, so its
 * switch ends in `assertNever`; `sink` writes the state out and may return a new state (e.g. with its outbox emptied);
 * the runner saves the checkpoint only after the sink.
 */
export interface Projection<S, out E extends EventType = EventType> {
  kind: ProjectionKind;
  name: string;
  /** Bump to rebuild from position 0. */
  version: number;
  handles: readonly E[];
  initialState: () => S;
  // Method syntax on purpose: a projection of a few types is still a `Projection<S>` for the runner and registry.
  evolve(state: S, event: HandledEvent<E>): S;
  sink?: (state: S, ctx: SinkContext) => Promise<S | void>;
  /** Deletes the projection's outputs before a rebuild. */
  reset?: (ctx: { dataDir: string }) => Promise<void>;
  /**
   * Rebuilds the outputs aside and swaps them in, instead of `reset` and a refold: what is published stays until its
   * replacement is complete. Returns the position reached and the state there, which the runner checkpoints.
   */
  rebuildAside?: (ctx: RebuildContext) => Promise<{ position: number; state: S }>;
  /** Keep the folded state in the checkpoint (default true); false for reactors and big states kept by the sink. */
  persistState?: boolean;
  /**
   * Least time between two saves of the checkpoint (default 0: every flush saves), for a reactor that keeps no state
   * in it (`persistState: false`) and whose sink's effects are idempotent (keyed appends): a crash redoes at most
   * the work of the flushes since the last save. A skipped save is made by the next one due, or by the runner's
   * `saveCheckpoints()`. Each save is an fsync, and a reactor that flushes after every few events made dozens a
   * second, each delaying the log's own writes on the same disk.
   */
  checkpointEveryMs?: number;
}

/** What a projector or reactor declares: a projection without its kind. */
export type ProjectionSpec<S, E extends EventType> = Omit<Projection<S, E>, 'kind'>;

/** Declares a projector: it folds the events of `handles` into its state or files, and appends nothing. */
export function defineProjector<S, const E extends EventType>(spec: ProjectionSpec<S, E>): Projection<S, E> {
  return { kind: 'projector', ...spec };
}

/** Declares a reactor: its sink appends new events or calls the outside world. */
export function defineReactor<S, const E extends EventType>(spec: ProjectionSpec<S, E>): Projection<S, E> {
  return { kind: 'reactor', ...spec };
}

/** True when `projection` handles `event`, narrowing the event to what its `evolve` takes. */
export function handlesEvent<S, E extends EventType>(projection: Pick<Projection<S, E>, 'handles'>, event: RecordedEvent): event is HandledEvent<E> {
  return (projection.handles as readonly EventType[]).includes(event.type);
}

/** `evolve` over any event, as the runner applies it: an event the projection does not handle leaves the state as it is. */
export function evolverOf<S, E extends EventType>(projection: Pick<Projection<S, E>, 'handles' | 'evolve'>): (state: S, event: RecordedEvent) => S {
  return (state, event) => (handlesEvent(projection, event) ? projection.evolve(state, event) : state);
}
