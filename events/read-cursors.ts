/**
 * Where reads of a log ended, as byte offsets: the next read from such a position resumes there instead of
 * scanning its segment from byte 0 (a projection catching up every few hundred milliseconds would otherwise
 * re-read the whole active segment each time: quadratic in the segment's size).
 */

/** A record boundary: the record at `position` starts at byte `offset` of the segment whose first record is `segmentFirst`. */
export interface ReadCursor {
  segmentFirst: number;
  offset: number;
  position: number;
  /** Inode of the segment file when the cursor was taken: a log directory deleted and made again is not resumed into. */
  ino?: number;
}

/** Cursors kept: one per projection or follower reading the log is plenty; the least recently used go first. */
const MAX_CURSORS = 64;

/**
 * Remembered cursors of one log. Only record boundaries are kept: a segment only grows, and a torn tail is cut
 * after its last valid record, so a boundary once seen stays a boundary.
 */
export class ReadCursors {
  private readonly byPosition = new Map<number, ReadCursor>();
  private tail: ReadCursor | undefined;

  /** Records where a read ended. */
  remember(cursor: ReadCursor): void {
    this.byPosition.delete(cursor.position);
    this.byPosition.set(cursor.position, cursor);
    if (this.byPosition.size > MAX_CURSORS) this.byPosition.delete(this.byPosition.keys().next().value!);
  }

  /** Records the writer's end of the log (kept apart so appends do not push readers' cursors out). */
  rememberTail(cursor: ReadCursor): void {
    this.tail = cursor;
  }

  /**
   * The cursor to start a read of `from` at: the nearest boundary at or before `from` within the segment
   * starting at `segmentFirst` (or exactly at `from` in an earlier one), or undefined to scan that segment from byte 0.
   */
  nearest(from: number, segmentFirst: number): ReadCursor | undefined {
    let best: ReadCursor | undefined;
    const consider = (c: ReadCursor | undefined): void => {
      if (!c || c.position > from || (c.segmentFirst !== segmentFirst && c.position !== from)) return;
      if (!best || c.position > best.position) best = c;
    };
    consider(this.byPosition.get(from));
    if (best) return best;
    consider(this.tail);
    for (const c of this.byPosition.values()) consider(c);
    return best;
  }

  /** Forgets everything (the files changed under the cursors). */
  clear(): void {
    this.byPosition.clear();
    this.tail = undefined;
  }
}
