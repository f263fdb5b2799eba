import { join } from 'node:path';
import { describeSchemaSnapshot } from '@weft/db/testing';
import { JOURNAL_MIGRATIONS, JOURNAL_MIGRATIONS_TABLE } from './journal-schema';

describeSchemaSnapshot({ service: 'journal', migrations: JOURNAL_MIGRATIONS, migrationsTableName: JOURNAL_MIGRATIONS_TABLE, file: join(__dirname, 'schema.snapshot.sql') });
