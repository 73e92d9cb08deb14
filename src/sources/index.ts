/**
 * Event-loop polling sources and atomic JSON writes (seed 003). No fs.watch, no threads:
 * every poll runs on the injected clock, one at a time. See docs/sources.md.
 */
export { writeJsonAtomic, isTempFileName } from './writeJsonAtomic.js';
export type { WriteJsonAtomicOptions, WriteJsonAtomicStep } from './writeJsonAtomic.js';
export { pollFile } from './pollFile.js';
export type {
  FileChangeInfo,
  FileSource,
  PollFileOptions,
  PollFileStats,
  PollLoopStats,
  SourceErrorInfo,
  SourceErrorPhase,
} from './pollFile.js';
export { pollDirectory } from './pollDirectory.js';
export type { DirectoryItem, DirectorySource, PollDirectoryOptions, PollDirectoryStats } from './pollDirectory.js';
