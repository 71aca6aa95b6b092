/** Projection state read once per log head: catching a projection up reads the log, which a busy portal must not do on every request. */

/** Wraps a read so it runs again only after the log head moved; concurrent callers share one read. */
export function whenHeadMoves<S>(head: () => number, read: () => Promise<S>): () => Promise<S> {
  let last: { head: number; value: Promise<S> } | undefined;
  return () => {
    const h = head();
    if (!last || last.head !== h) {
      const value = read();
      last = { head: h, value };
      // A failed read is not remembered: the next caller tries again.
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}
