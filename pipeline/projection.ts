/** Projections: a pure fold over events plus a sink that does the I/O. */
import type { Observable } from 'rxjs';
import type { EventType, RecordedEvent } from '../events/index.ts';

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
 * A projection. `evolve` is pure (no I/O); `sink` writes the state out and may return a new
 * state (e.g. with its outbox emptied); the runner saves the checkpoint only after the sink.
 */
export interface Projection<S> {
  name: string;
  /** Bump to rebuild from position 0. */
  version: number;
  handles: readonly EventType[];
  initialState: () => S;
  evolve: (state: S, event: RecordedEvent) => S;
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
}

/** Declares a projection (identity, for type inference and readability). */
export function defineProjection<S>(projection: Projection<S>): Projection<S> {
  return projection;
}
