import type { DataSource } from 'typeorm';

/**
 * A store's running calls, so `close()` can wait for them; once closed, new calls are
 * refused with the store's own error (`closedError`).
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly closedError: () => Error) {}

  track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError());
    const running = work();
    this.running.add(running);
    const forget = () => this.running.delete(running);
    void running.then(forget, forget);
    return running;
  }

  /** Refuses new calls and resolves once the running ones settled. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.running]);
  }
}

/** The database's clock (epoch ms): every replica measures ages on the same one. */
export async function databaseNow(dataSource: Pick<DataSource, 'query'>): Promise<number> {
  const rows: { now: Date | string }[] = await dataSource.query('SELECT clock_timestamp() AS now');
  const now = rows[0]?.now ?? new Date();
  return now instanceof Date ? now.getTime() : new Date(now).getTime();
}
