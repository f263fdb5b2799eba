import { join } from 'node:path';
import { describeSchemaSnapshot } from '@weft/db/testing';
import { TRIGGERS_MIGRATIONS, TRIGGERS_MIGRATIONS_TABLE } from './triggers-schema';

describeSchemaSnapshot({ service: 'triggers', migrations: TRIGGERS_MIGRATIONS, migrationsTableName: TRIGGERS_MIGRATIONS_TABLE, file: join(__dirname, 'schema.snapshot.sql') });
