/** Public face of the profiler: the projection, on-demand profiling, the profiles.json format and its pure rules. */
export type * from './types.ts';
export { profilerProjection, evolveProfiler, emptyProfilerState, dueTables, foldProfilerState, PROFILER_PROJECTION, PROFILER_VERSION } from './projection.ts';
export type { ProfilerState, ProfilerDeps } from './projection.ts';
export { profileTables, resolveOptions, PROFILER_DEFAULTS, PROFILER_TEMP_DIR } from './profile-tables.ts';
export type { ProfileTablesInput } from './profile-tables.ts';
export { readProfiles, profilesFile, previousProfilesFile, PROFILES_VERSION } from './profiles-file.ts';
export { profileInputsHash } from './profile-inputs.ts';
export { ProfileErrorCode } from './engine.ts';
export { ALERT_THRESHOLDS, columnAlerts, tableAlerts } from './alerts.ts';
export { HISTOGRAM_BINS, binIndex, binWidth, histogramBins } from './histogram.ts';
export { categoryOf } from './column-category.ts';
export { relatedTables } from './build-profile.ts';
