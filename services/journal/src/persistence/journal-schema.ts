import { JournalSchema1795300000000 } from './migrations/1795300000000-journal-schema.migration';
import { JournalNamespaces1795600000000 } from './migrations/1795600000000-journal-namespaces.migration';

/** Oldest first. Append new migrations; never edit an applied one. */
export const JOURNAL_MIGRATIONS = [JournalSchema1795300000000, JournalNamespaces1795600000000];

/** The journal's own bookkeeping table, so services sharing a database do not see each other's migrations. */
export const JOURNAL_MIGRATIONS_TABLE = 'journal_migrations';
