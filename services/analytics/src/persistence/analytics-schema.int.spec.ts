import { join } from 'node:path';
import { describeSchemaSnapshot } from '@weft/db/testing';
import { ANALYTICS_MIGRATIONS, ANALYTICS_MIGRATIONS_TABLE } from './analytics-schema';

describeSchemaSnapshot({ service: 'analytics', migrations: ANALYTICS_MIGRATIONS, migrationsTableName: ANALYTICS_MIGRATIONS_TABLE, file: join(__dirname, 'schema.snapshot.sql') });
