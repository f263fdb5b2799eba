import type { DataSource } from 'typeorm';

/**
 * Records the statements `dataSource` runs from now on, through its query runners' connections
 * (named statements included), in order: their texts, and the error codes of those that failed.
 */
export function recordStatements(dataSource: DataSource): { texts: string[]; codes: string[] } {
  const texts: string[] = [];
  const codes: string[] = [];
  const patched = new WeakSet<object>();
  const create = dataSource.createQueryRunner.bind(dataSource);
  dataSource.createQueryRunner = (...args) => {
    const runner = create(...args);
    const connect = runner.connect.bind(runner);
    runner.connect = async () => {
      const client = (await connect()) as { query: (...rest: unknown[]) => unknown };
      if (!patched.has(client)) {
        patched.add(client);
        const query = client.query.bind(client);
        client.query = (...rest: unknown[]) => {
          const [q] = rest as [string | { text?: string }];
          texts.push(typeof q === 'string' ? q : String(q.text));
          const result = query(...rest);
          if (result instanceof Promise) result.catch((error: { code?: string }) => codes.push(error.code ?? 'unknown'));
          return result;
        };
      }
      return client;
    };
    return runner;
  };
  return { texts, codes };
}
