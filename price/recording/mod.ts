/**
 * Recording the venues' frames and the ticks, and replaying them
 * (docs/price-index.md, "Recording and replay").
 *
 * ```ts
 * import { createRecorder, recordComputes } from "./recording/mod.ts";
 * const recorder = createRecorder({ dir, maxBytes, maxFiles, intervalMs, index: config.venues, log });
 * ```
 */
export { readRecordingConfig, type RecordingConfig } from "./config.ts";
export type { RecordedIndexConfig, RecordLine } from "./format.ts";
export { createRecorder, type Recorder, type RecorderOptions, type RecordSink, recordComputes } from "./recorder.ts";
export { createReplay, parseRecordLine, RecordingError, type ReplayedTick, type ReplaySummary } from "./replay.ts";
