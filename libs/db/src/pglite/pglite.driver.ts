import { EventEmitter } from 'node:events';
import { DbError } from '../db.errors';
import { type PgliteDatabase, type PgliteQueryResult } from './pglite.database';

type QueryCallback = (error: Error | null, result?: PgliteQueryResult) => void;
type ConnectCallback = (error: Error | null, client?: PgliteClient, release?: (error?: unknown) => void) => void;

/**
 * The slice of the `pg` module TypeORM's postgres driver uses (`new Pool()`,
 * `pool.connect(cb)`, `client.query()`, `pool.end(cb)`), over one PgliteDatabase.
 *
 * Why not `typeorm-pglite`: it keeps one PGlite per process in a static, so two data
 * sources (or two directories) cannot coexist, and it hands the same session to every
 * query runner at once, so concurrent transactions interleave inside one BEGIN..COMMIT
 * and a ROLLBACK in one undoes the other.
 *
 * The pool owns one reference to the database and drops it on `end()`.
 */
export function pgliteDriverModule(database: PgliteDatabase, searchPath: string): { Pool: new (options?: unknown) => PglitePool } {
  return {
    Pool: class extends PglitePool {
      constructor() {
        super(database, searchPath);
      }
    },
  };
}

export class PglitePool extends EventEmitter {
  private ended = false;

  constructor(
    private readonly database: PgliteDatabase,
    private readonly searchPath: string,
  ) {
    super();
  }

  connect(callback: ConnectCallback): void;
  connect(): Promise<PgliteClient>;
  connect(callback?: ConnectCallback): Promise<PgliteClient> | void {
    const connected = this.checkout();
    if (!callback) return connected;
    connected.then(
      (client) => callback(null, client, () => void client.release().catch((error: unknown) => this.emit('error', asError(error)))),
      (error: unknown) => callback(asError(error)),
    );
  }

  query(sql: string, params?: unknown[] | QueryCallback, callback?: QueryCallback): Promise<PgliteQueryResult> | void {
    const run = async () => {
      const client = await this.checkout();
      try {
        return await client.execute(sql, Array.isArray(params) ? params : undefined);
      } finally {
        await client.release();
      }
    };
    return settle(run(), typeof params === 'function' ? params : callback);
  }

  end(callback?: (error?: Error | null) => void): Promise<void> | void {
    if (this.ended) return settle(Promise.resolve(), callback);
    this.ended = true;
    return settle(this.database.release(), callback);
  }

  private async checkout(): Promise<PgliteClient> {
    if (this.ended) throw new DbError('DB_CLOSED', 'the connection pool has ended');
    return new PgliteClient(this.database, await this.database.checkout(this.searchPath));
  }
}

/** The session, held exclusively until `release()`. */
export class PgliteClient extends EventEmitter {
  private released = false;

  constructor(
    private readonly database: PgliteDatabase,
    private readonly giveBack: () => Promise<void>,
  ) {
    super();
  }

  query(sql: string, params?: unknown[] | QueryCallback, callback?: QueryCallback): Promise<PgliteQueryResult> | void {
    return settle(this.execute(sql, Array.isArray(params) ? params : undefined), typeof params === 'function' ? params : callback);
  }

  async execute(sql: string, params?: readonly unknown[]): Promise<PgliteQueryResult> {
    if (this.released) throw new DbError('DB_CLOSED', 'query on a released connection');
    return this.database.run(sql, params);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.giveBack();
  }
}

/** node-postgres style: a callback when given, else the promise. */
function settle<T>(promise: Promise<T>, callback?: (error: Error | null, value?: T) => void): Promise<T> | void {
  if (!callback) return promise;
  promise.then(
    (value) => callback(null, value),
    (error: unknown) => callback(asError(error)),
  );
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));
