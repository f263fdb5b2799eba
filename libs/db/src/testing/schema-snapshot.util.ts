import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../database-config';
import { type DataSourceParts, createDataSource } from '../data-source';
import { runMigrations } from '../migrations';
import { PgliteDatabase } from '../pglite/pglite.database';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName } from './postgres-test.util';

/**
 * A service's schema as its migrations build it, written out as `schema.snapshot.sql` beside
 * them: the readable answer to "what does this table look like", and the check that a
 * migration changed what it meant to (the migrations are the schema; there are no entities).
 */
export interface SchemaSnapshotSubject {
  /** Names the schema in the file's header: `scheduler`. */
  service: string;
  migrations: DataSourceParts['migrations'];
  migrationsTableName: string;
  /** The committed snapshot, e.g. `join(__dirname, 'schema.snapshot.sql')`. */
  file: string;
}

type Sql = Pick<DataSource, 'query'>;

const ROOT = join(__dirname, '..', '..', '..', '..');
/** How to rewrite every snapshot; named in each file's header and in a failing spec's message. */
export const SCHEMA_SNAPSHOT_COMMAND = 'node tools/schema-snapshot.js';

/**
 * The tables of the current schema (bar `skipTable`) as CREATE statements with their columns
 * (type, NOT NULL, default), constraints, storage parameters and the indexes no constraint owns, then any views,
 * functions and triggers. Sorted by name, the schema's own name left out, so the text is the
 * same for whichever schema a test migrated. Names are printed as they are, not quote_ident'ed:
 * PostgreSQL 16 made `json` a keyword, so PGlite (17) would quote a column PostgreSQL 15 does not.
 */
export async function dumpSchema(sql: Sql, skipTable: string): Promise<string> {
  const [{ schema }]: { schema: string }[] = await sql.query('SELECT current_schema() AS schema');
  const tables: { oid: number; name: string; options: string | null }[] = await sql.query(
    `SELECT c.oid, c.relname AS name, array_to_string(c.reloptions, ', ') AS options FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 ORDER BY c.relname`,
    [schema, skipTable],
  );
  const out: string[] = [];
  for (const table of tables) {
    const columns: { name: string; type: string; notnull: boolean; def: string | null }[] = await sql.query(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS def
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [table.oid],
    );
    // contype 'n' (NOT NULL as a constraint, PostgreSQL 18) is shown on the column already.
    const constraints: { name: string; def: string }[] = await sql.query(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = $1 AND contype <> 'n' ORDER BY contype <> 'p', conname`,
      [table.oid],
    );
    const indexes: { def: string }[] = await sql.query(
      `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
        ORDER BY c.relname`,
      [table.oid],
    );
    // timestamptz as the migrations write it (format_type spells the same type out).
    for (const c of columns) c.type = c.type.replace('timestamp with time zone', 'timestamptz');
    const width = Math.max(...columns.map((c) => c.name.length));
    const typeWidth = Math.max(...columns.map((c) => c.type.length));
    const lines = [
      ...columns.map((c) => [c.name.padEnd(width), c.type.padEnd(typeWidth), c.notnull ? 'NOT NULL' : '        ', c.def === null ? '' : `DEFAULT ${c.def}`].join(' ').trimEnd()),
      ...constraints.map((c) => `CONSTRAINT ${c.name} ${c.def}`),
    ];
    // Storage parameters (fillfactor, toast_tuple_target) as `WITH (...)`: a migration may set only those.
    const options = table.options ? ` WITH (${table.options})` : '';
    out.push(`CREATE TABLE ${table.name} (\n${lines.map((line) => `  ${line}`).join(',\n')}\n)${options};`, ...indexes.map((i) => `${i.def};`), '');
  }
  const others: { def: string }[] = await sql.query(
    `SELECT format('CREATE VIEW %I AS %s', c.relname, pg_get_viewdef(c.oid)) AS def FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')
     UNION ALL
     SELECT pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.prokind IN ('f', 'p')
     UNION ALL
     SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT t.tgisinternal
     ORDER BY 1`,
    [schema],
  );
  out.push(...others.map((o) => `${o.def.trim().replace(/;$/, '')};`));
  return withoutSchemaName(out.join('\n').trimEnd(), schema);
}

/** pg_get_indexdef and others qualify names with the schema (`ON t_1a2b.runs`): the snapshot must not depend on it. */
function withoutSchemaName(text: string, schema: string): string {
  const quoted = `"${schema.replaceAll('"', '""')}".`;
  return text.split(quoted).join('').split(`${schema}.`).join('');
}

/** The snapshot file's text for a database the subject's migrations were just applied to. */
export async function schemaSnapshot(sql: Sql, subject: SchemaSnapshotSubject): Promise<string> {
  const applied: { name: string }[] = await sql.query(`SELECT name FROM "${subject.migrationsTableName}" ORDER BY id`);
  const header = [
    `-- The ${subject.service} schema as its migrations build it (the migrations are the schema; there are no entities).`,
    `-- Generated, do not edit: after adding a migration run \`${SCHEMA_SNAPSHOT_COMMAND}\` and read the diff.`,
    `-- Checked on PGlite and PostgreSQL by ${subject.service}-schema.int.spec.ts. Migrations applied, oldest first:`,
    ...applied.map((m) => `--   ${m.name}`),
  ];
  return `${header.join('\n')}\n\n${await dumpSchema(sql, subject.migrationsTableName)}\n`;
}

/** Applies the subject's migrations to a fresh schema of `config`'s database and returns the snapshot text. */
export async function migratedSchemaSnapshot(config: DatabaseConfig, subject: SchemaSnapshotSubject, pglite?: PgliteDatabase): Promise<string> {
  const dataSource = await createDataSource(config, { migrations: subject.migrations, migrationsTableName: subject.migrationsTableName, ...(pglite && { pglite }) });
  try {
    await runMigrations(dataSource);
    return await schemaSnapshot(dataSource, subject);
  } finally {
    await dataSource.destroy();
  }
}

/** Rewrites the subjects' snapshot files from fresh schemas on one in-memory PGlite (what tools/schema-snapshot.js does). */
export async function writeSchemaSnapshots(subjects: SchemaSnapshotSubject[]): Promise<{ file: string; changed: boolean }[]> {
  const pglite = await PgliteDatabase.open();
  try {
    const written: { file: string; changed: boolean }[] = [];
    for (const subject of subjects) {
      const text = await migratedSchemaSnapshot({ kind: 'pglite', schema: randomSchemaName('snapshot') }, subject, pglite);
      const before = readSnapshot(subject.file);
      if (before !== text) writeFileSync(subject.file, text);
      written.push({ file: relative(ROOT, subject.file), changed: before !== text });
    }
    return written;
  } finally {
    await pglite.release();
  }
}

const readSnapshot = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * The spec of a service's schema: its migrations, applied to a fresh schema on PGlite and on
 * the test PostgreSQL, build exactly what its committed snapshot file shows.
 */
export function describeSchemaSnapshot(subject: SchemaSnapshotSubject): void {
  const expectSnapshot = async (config: DatabaseConfig, pglite?: PgliteDatabase): Promise<void> => {
    const committed = readSnapshot(subject.file);
    const actual = await migratedSchemaSnapshot(config, subject, pglite);
    try {
      expect(actual).toBe(committed);
    } catch (error) {
      // The diff says what changed; this says how to accept it.
      if (error instanceof Error) error.message = `${relative(ROOT, subject.file)} is not what the ${subject.service} migrations build; if that is meant, run \`${SCHEMA_SNAPSHOT_COMMAND}\`\n\n${error.message}`;
      throw error;
    }
  };

  describe(`the ${subject.service} schema (${relative(ROOT, subject.file)})`, () => {
    it('is what the migrations build on PGlite', async () => {
      const pglite = await PgliteDatabase.open();
      try {
        await expectSnapshot({ kind: 'pglite', schema: randomSchemaName(subject.service) }, pglite);
      } finally {
        await pglite.release();
      }
    }, 60_000);

    describeWhenReachable('on PostgreSQL', [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
      it('is what the migrations build on PostgreSQL', async () => {
        const schema = randomSchemaName(subject.service);
        try {
          await expectSnapshot({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
        } finally {
          await dropSchema(schema);
        }
      }, 60_000);
    });
  });
}
