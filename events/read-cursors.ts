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
 * Besides those, a boundary every this many bytes of each segment is kept for as long as the log is open, so a
 * reader whose own cursor was pushed out (a projection passing every few hundred milliseconds while a busy
 * follower reads after every append) rescans at most this much, not its segment from byte 0.
 */
const INDEX_SPACING_BYTES = 1 << 20;
/** Index entries kept, across segments (64 per full 64 MiB segment); the earliest segments' go first. */
const MAX_INDEXED = 4096;

/**
 * Remembered cursors of one log. Only record boundaries are kept: a segment only grows, and a torn tail is cut
 * after its last valid record, so a boundary once seen stays a boundary.
 */
export class ReadCursors {
  private readonly byPosition = new Map<number, ReadCursor>();
  private tail: ReadCursor | undefined;
  /** Sparse boundaries, ordered by position: at least INDEX_SPACING_BYTES apart within a segment. */
  private readonly index: ReadCursor[] = [];

  /** Records where a read ended. */
  remember(cursor: ReadCursor): void {
    this.byPosition.delete(cursor.position);
    this.byPosition.set(cursor.position, cursor);
    if (this.byPosition.size > MAX_CURSORS) this.byPosition.delete(this.byPosition.keys().next().value!);
    this.addToIndex(cursor);
  }

  /** Records the writer's end of the log (kept apart so appends do not push readers' cursors out). */
  rememberTail(cursor: ReadCursor): void {
    this.tail = cursor;
    this.addToIndex(cursor);
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
    consider(this.indexed(from));
    return best;
  }

  /** Forgets everything (the files changed under the cursors). */
  clear(): void {
    this.byPosition.clear();
    this.tail = undefined;
    this.index.length = 0;
  }

  /** Keeps `cursor` in the index when no indexed boundary of its segment lies within the spacing of it. */
  private addToIndex(cursor: ReadCursor): void {
    const at = this.firstAfter(cursor.position);
    const near = (c: ReadCursor | undefined): boolean =>
      c !== undefined && c.segmentFirst === cursor.segmentFirst && Math.abs(c.offset - cursor.offset) < INDEX_SPACING_BYTES;
    if (near(this.index[at - 1]) || near(this.index[at])) return;
    this.index.splice(at, 0, cursor);
    if (this.index.length > MAX_INDEXED) this.index.shift();
  }

  /** The indexed boundary with the greatest position at or before `from`. */
  private indexed(from: number): ReadCursor | undefined {
    return this.index[this.firstAfter(from) - 1];
  }

  /** Index of the first entry whose position is greater than `position` (binary search). */
  private firstAfter(position: number): number {
    let lo = 0;
    let hi = this.index.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.index[mid]!.position <= position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
