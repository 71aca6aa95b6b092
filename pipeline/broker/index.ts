/** Public face of the broker room: the composition root and its typed API, and the read-only side. */
export { Broker, HEALTH_INTERVAL_MS } from './broker.ts';
export type { BrokerSyncRequest, ReplayResult } from './broker.ts';
export { BrokerReader, isServerCommand } from './reader.ts';
export type { AnalystsApi, AddAnalystInput, AddedAnalyst } from './analysts.ts';
export type { EventReads, LogStats, LogVerification, LogProblem, TypeStats } from './event-reads.ts';
export { PROFILE_NOT_PUBLISHED, selectProfileTargets } from './profile.ts';
export type { ProfileRequest, ProfileResult } from './profile.ts';
export { PROJECTION_NAMES } from './registry.ts';
export { checkpointsDirOf, controlSocketPath, eventsDirOf } from './paths.ts';
export { diskUse, loadNow } from './health-inputs.ts';
export { stderrLogger } from './types.ts';
export type { BrokerConnectors, BrokerConnectorsFactory, BrokerLogger, BrokerOptions } from './types.ts';
