#!/usr/bin/env node
'use strict';
// Rewrites each service's schema.snapshot.sql (beside its migrations) from what its migrations
// build on a fresh in-memory PGlite. Run it after adding a migration and read the diff; the
// <service>-schema.int.spec.ts beside each file fails until it is committed.
//
//   node tools/schema-snapshot.js
require('@swc-node/register');
const path = require('node:path');
const { writeSchemaSnapshots } = require('../libs/db/src/testing/schema-snapshot.util');

const scheduler = require('../services/scheduler/src/persistence/scheduler-schema');
const journal = require('../services/journal/src/persistence/journal-schema');
const analytics = require('../services/analytics/src/persistence/analytics-schema');
const triggers = require('../services/triggers/src/persistence/triggers-schema');

const snapshotOf = (service) => path.join(__dirname, '..', 'services', service, 'src', 'persistence', 'schema.snapshot.sql');
const subjects = [
  { service: 'scheduler', migrations: scheduler.SCHEDULER_MIGRATIONS, migrationsTableName: scheduler.SCHEDULER_MIGRATIONS_TABLE },
  { service: 'journal', migrations: journal.JOURNAL_MIGRATIONS, migrationsTableName: journal.JOURNAL_MIGRATIONS_TABLE },
  { service: 'analytics', migrations: analytics.ANALYTICS_MIGRATIONS, migrationsTableName: analytics.ANALYTICS_MIGRATIONS_TABLE },
  { service: 'triggers', migrations: triggers.TRIGGERS_MIGRATIONS, migrationsTableName: triggers.TRIGGERS_MIGRATIONS_TABLE },
].map((subject) => ({ ...subject, file: snapshotOf(subject.service) }));

async function main() {
  for (const { file, changed } of await writeSchemaSnapshots(subjects)) console.log(`${changed ? 'rewrote  ' : 'unchanged'} ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
