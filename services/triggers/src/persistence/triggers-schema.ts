import { TriggersSchema1795700000000 } from './migrations/1795700000000-triggers-schema.migration';

/** Oldest first. Append new migrations; never edit an applied one. */
export const TRIGGERS_MIGRATIONS = [TriggersSchema1795700000000];

/** The service's own bookkeeping table, so services sharing a database do not see each other's migrations. */
export const TRIGGERS_MIGRATIONS_TABLE = 'triggers_migrations';
