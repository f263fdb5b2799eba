import { createServer } from 'node:net';

/**
 * Whether something already listens on host:port. Asked before `weft dev` starts its
 * services, so a busy port is one line, not a stack trace after the bus and store came up.
 */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(true);
      else reject(error);
    });
    probe.listen({ host, port, exclusive: true }, () => {
      probe.close(() => resolve(false));
    });
  });
}
