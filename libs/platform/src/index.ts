export * from './health.module';
export * from './lifecycle-events.handler';
export * from './logger.factory';
export * from './metrics.module';
export * from './problem-details.filter';
export * from './query-params.util';
// Moved to @weft/db (the scheduler's blob sweep uses them without loading this package's Nest modules); kept here for importers.
export { type BatchOutcome, BatchedRetention, pruneInBatches, type RetentionLog, RetentionPasses, type RetentionPassesOptions, type RetentionStep, WalkingRetention, type WalkingRetentionOptions, type WalkedRows, walkedStep } from '@weft/db';
export * from './service.bootstrap';
export * from './shutdown.module';
export * from './auth';
export * from './connect-bus';
export * from './service.runtime';
export * from './projection.module';
export * from './projection.service';
export * from './console.module';
export * from './http-guard.error';
export * from './http-guards';
