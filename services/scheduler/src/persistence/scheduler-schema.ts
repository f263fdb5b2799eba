import { ApiSchema1795400000000 } from '@weft/db';
import { SchedulerSchema1795247300000 } from './migrations/1795247300000-scheduler-schema.migration';
import { OutboxQuarantine1795900000000 } from './migrations/1795900000000-outbox-quarantine.migration';
import { Waits1796000000000 } from './migrations/1796000000000-waits.migration';
import { Audit1796100000000 } from './migrations/1796100000000-audit.migration';
import { ExceptionResolutions1796300000000 } from './migrations/1796300000000-exceptions.migration';
import { Blobs1796200000000 } from './migrations/1796200000000-blobs.migration';
import { Slots1796400000000 } from './migrations/1796400000000-slots.migration';
import { RateLimits1797100000000 } from './migrations/1797100000000-rate-limits.migration';
import { SlotStrategy1797200000000 } from './migrations/1797200000000-slot-strategy.migration';
import { HopStorage1797300000000 } from './migrations/1797300000000-hop-storage.migration';
import { EarlyCancels1797400000000 } from './migrations/1797400000000-early-cancels.migration';
import { RunsPrefix1796700000000 } from './migrations/1796700000000-runs-prefix.migration';
import { WaitBacklog1796950000000 } from './migrations/1796950000000-wait-backlog.migration';
import { BlobSweep1796510000000 } from './migrations/1796510000000-blob-sweep.migration';

/** Oldest first. Append new migrations; never edit an applied one. The API-key migration (the schema of @weft/platform's API-key repository) is @weft/db's, applied here under its old name. */
export const SCHEDULER_MIGRATIONS = [SchedulerSchema1795247300000, ApiSchema1795400000000, OutboxQuarantine1795900000000, Waits1796000000000, Audit1796100000000, Blobs1796200000000, ExceptionResolutions1796300000000, Slots1796400000000, BlobSweep1796510000000, RunsPrefix1796700000000, WaitBacklog1796950000000, RateLimits1797100000000, SlotStrategy1797200000000, HopStorage1797300000000, EarlyCancels1797400000000];

/** The scheduler's own bookkeeping table, so services sharing a database do not see each other's migrations. */
export const SCHEDULER_MIGRATIONS_TABLE = 'scheduler_migrations';
