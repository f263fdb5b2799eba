import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PGlite, Results } from '@electric-sql/pglite';
import { DbError } from '../db.errors';
import { lockDataDir } from './pglite-lock';

/** PGlite's module, loaded on first open: a process that never opens it does not load it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pgliteModule = (): typeof import('@electric-sql/pglite') => require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');

/** The search_path of a fresh session; restored for data sources without a schema. */
export const DEFAULT_SEARCH_PATH = '"$user", public';

/** What the single PGlite session answers, shaped like node-postgres' result (TypeORM reads rowCount and command). */
export interface PgliteQueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
  command: string | undefined;
  fields: { name: string; dataTypeID: number }[];
}

/**
 * One PGlite instance, shared by every data source opened on it. PGlite is a single
 * Postgres session, so connections are checked out exclusively (FIFO): a transaction
 * owns the session from BEGIN to COMMIT and nobody else's statement lands inside it.
 * That is also what serialises runs in embedded mode, where `FOR UPDATE` has no
 * competitor. Reference-counted: the last `release()` closes the database.
 *
 * Opening the same directory twice in one process yields the same instance; two
 * PGlite instances on one directory would corrupt it.
 */
export class PgliteDatabase {
  private static readonly byDir = new Map<string, Promise<PgliteDatabase>>();
  private static readonly closingByDir = new Map<string, Promise<void>>();

  private refs = 1;
  private tail: Promise<void> = Promise.resolve();
  private searchPath = DEFAULT_SEARCH_PATH;
  private closed = false;
  /** Releases the directory's lock file (see lockDataDir); nothing in memory. */
  private unlock: () => void = () => undefined;

  private constructor(
    readonly pg: PGlite,
    /** Absolute path, or undefined in memory. */
    readonly dataDir: string | undefined,
  ) {}

  /** Opens (or joins) the database in `dataDir`, creating the directory; undefined opens a fresh one in memory. */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    if (dataDir === undefined) return new PgliteDatabase(await pgliteModule().PGlite.create(pgliteOptions()), undefined);
    const dir = resolve(dataDir);
    for (;;) {
      const closing = PgliteDatabase.closingByDir.get(dir);
      if (closing) {
        await closing;
        continue;
      }
      const opening = PgliteDatabase.byDir.get(dir);
      if (opening) {
        const database = await opening;
        if (database.closed || database.refs === 0) continue;
        database.acquire();
        return database;
      }
      const created = (async () => {
        await mkdir(dir, { recursive: true });
        // One process per directory: a second one fails here, naming the holder.
        const unlock = lockDataDir(dir);
        try {
          const database = new PgliteDatabase(await pgliteModule().PGlite.create({ ...pgliteOptions(), dataDir: dir }), dir);
          database.unlock = unlock;
          return database;
        } catch (error) {
          unlock();
          throw error;
        }
      })();
      PgliteDatabase.byDir.set(dir, created);
      try {
        return await created;
      } catch (error) {
        PgliteDatabase.byDir.delete(dir);
        throw error;
      }
    }
  }

  /** Takes another reference; pair it with `release()`. */
  acquire(): this {
    if (this.closed) throw new DbError('DB_CLOSED', 'the embedded database is closed');
    this.refs += 1;
    return this;
  }

  /** Drops a reference; the last one closes PGlite (flushing a data directory). */
  async release(): Promise<void> {
    if (this.refs === 0) return;
    this.refs -= 1;
    if (this.refs > 0) return;
    const dir = this.dataDir;
    const closing = this.tail.then(async () => {
      this.closed = true;
      try {
        await this.pg.close();
      } finally {
        this.unlock();
      }
    });
    if (dir !== undefined) {
      PgliteDatabase.byDir.delete(dir);
      PgliteDatabase.closingByDir.set(dir, closing);
    }
    try {
      await closing;
    } finally {
      if (dir !== undefined && PgliteDatabase.closingByDir.get(dir) === closing) PgliteDatabase.closingByDir.delete(dir);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Waits for the session, sets `searchPath` on it and returns the function that
   * hands it back. A transaction left open by its holder is rolled back on release,
   * so it never leaks into the next holder's statements.
   */
  async checkout(searchPath: string): Promise<() => Promise<void>> {
    let unlock: () => void = () => undefined;
    const previous = this.tail;
    this.tail = new Promise<void>((done) => (unlock = done));
    await previous;
    if (this.closed) {
      unlock();
      throw new DbError('DB_CLOSED', 'the embedded database is closed');
    }
    try {
      if (searchPath !== this.searchPath) {
        await this.pg.exec(`SET search_path TO ${searchPath}`);
        this.searchPath = searchPath;
      }
    } catch (error) {
      unlock();
      throw error;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      try {
        if (!this.closed && this.pg.isInTransaction()) await this.pg.exec('ROLLBACK');
      } finally {
        unlock();
      }
    };
  }

  /** Runs one statement (or, without parameters, a script) on its own checkout, outside any data source. */
  async query(sql: string, params?: readonly unknown[]): Promise<PgliteQueryResult> {
    const release = await this.checkout(DEFAULT_SEARCH_PATH);
    try {
      return await this.run(sql, params);
    } finally {
      await release();
    }
  }

  /** Runs one statement (with parameters) or a script (without), on a session already checked out. */
  async run(sql: string, params?: readonly unknown[]): Promise<PgliteQueryResult> {
    const result: Results<Record<string, unknown>> | undefined =
      params && params.length > 0 ? await this.pg.query<Record<string, unknown>>(sql, [...params]) : (await this.pg.exec(sql)).at(-1);
    if (!result) return { rows: [], rowCount: 0, command: undefined, fields: [] };
    return {
      rows: result.rows,
      rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
      command: result.command,
      fields: result.fields,
    };
  }
}

/** Parse like node-postgres so code (and TypeORM) sees the same values on both: int8 stays a string. */
const pgliteOptions = () => ({
  parsers: { [pgliteModule().types.INT8]: (value: string) => value },
});
