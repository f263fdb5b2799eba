import { createServer, type Socket, connect } from 'node:net';

export interface TcpProxy {
  /** Where clients connect (127.0.0.1). */
  readonly port: number;
  /** Drops every open connection and refuses new ones (the target "goes away"). */
  cut(): void;
  /** Accepts and forwards connections again. */
  restore(): void;
  /** Open client connections. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of `target` that a test can cut and restore, to make a
 * dependency (PostgreSQL) unreachable from a service without touching the server.
 */
export async function tcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let open = true;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    cut() {
      open = false;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      open = true;
    },
    connections: () => pairs.size,
    close: () =>
      new Promise<void>((resolve) => {
        open = false;
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
