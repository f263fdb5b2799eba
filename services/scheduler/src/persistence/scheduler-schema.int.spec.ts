import { join } from 'node:path';
import { describeSchemaSnapshot } from '@weft/db/testing';
import { SCHEDULER_MIGRATIONS, SCHEDULER_MIGRATIONS_TABLE } from './scheduler-schema';

describeSchemaSnapshot({ service: 'scheduler', migrations: SCHEDULER_MIGRATIONS, migrationsTableName: SCHEDULER_MIGRATIONS_TABLE, file: join(__dirname, 'schema.snapshot.sql') });
