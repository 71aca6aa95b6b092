/** The records of one group commit as followers in this process get them: each parsed when first asked for, once. */
import { FRAME_HEADER_BYTES } from './codec.ts';
import { recordType } from './record-buffer.ts';
import type { RecordedEvent } from './types.ts';

/**
 * A durable batch's framed records (a copy: the writer reuses its buffer). Followers that want a few types peek
 * each record's type and parse only those; the writer no longer parses every record before answering its appends.
 */
export class LiveBatch {
  /** Position of the first record. */
  readonly first: number;
  readonly count: number;
  private readonly buf: Buffer;
  /** Payload start of record `i` at `2i`, its end at `2i + 1`. */
  private readonly bounds: number[] = [];
  private readonly events: Array<RecordedEvent | undefined>;

  constructor(first: number, framed: Buffer) {
    this.first = first;
    this.buf = framed;
    for (let at = 0; at < framed.length;) {
      const end = at + FRAME_HEADER_BYTES + framed.readUInt32LE(at);
      this.bounds.push(at + FRAME_HEADER_BYTES, end);
      at = end;
    }
    this.count = this.bounds.length / 2;
    this.events = new Array<RecordedEvent | undefined>(this.count);
  }

  /** The type of record `i`, parsing it only when its layout does not tell. */
  typeOf(i: number): string {
    return recordType(this.buf, this.bounds[2 * i]!, this.bounds[2 * i + 1]!) ?? this.event(i).type;
  }

  /** Record `i` as an event (the same object for every follower: do not modify it). */
  event(i: number): RecordedEvent {
    return (this.events[i] ??= JSON.parse(this.buf.toString('utf8', this.bounds[2 * i]!, this.bounds[2 * i + 1]!)) as RecordedEvent);
  }
}
