/** Public face of `events/`: event types, errors, the log store, blob store and checkpoints. */
export * from './types.ts';
export * from './errors.ts';
export * from './upcast.ts';
export { EventLog, EventLogReader, DEFAULT_SEGMENT_BYTES } from './log-store.ts';
export type { AppendResult, EventLogOptions, LogLogger, LogWriterOwner, ReadOptions } from './log-store.ts';
export { listSegments, scanSegment, segmentName } from './segments.ts';
export type { SegmentInfo, RawRecord } from './segments.ts';
export { encodeFrame, decodeFrame, MAX_RECORD_BYTES } from './codec.ts';
export { BlobStore, hashFile } from './blob-store.ts';
export { fsyncDir, fsyncFile, isProcessAlive, writeFileIfChanged } from './fs-sync.ts';
export type { StoredBlob } from './blob-store.ts';
export { CheckpointStore } from './checkpoint-store.ts';
export type { Checkpoint } from './checkpoint-store.ts';
export { isPlainRelativePath, MAX_RELATIVE_PATH_CHARS } from './relative-path.ts';
