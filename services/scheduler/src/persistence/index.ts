export { type MemoryRunStoreOptions, MemoryRunStore } from './memory-run.store';
export { type RunStoreErrorCode, RunStoreError } from './run-store.errors';
export { SCHEDULER_MIGRATIONS, SCHEDULER_MIGRATIONS_TABLE } from './scheduler-schema';
export { type SqlRunStoreOptions, SqlRunStore, openSqlRunStore } from './sql-run.store';
export { type RunListFilter, type RunListing, SqlRunDirectory } from './run-directory.repository';
export { MemorySlotStore } from './memory-slot.store';
export { SqlSlotStore } from './sql-slot.store';
export { MemoryRateLimitStore } from './memory-rate-limit.store';
export { SqlRateLimitStore } from './sql-rate-limit.store';
