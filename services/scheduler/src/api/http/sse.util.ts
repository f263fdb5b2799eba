import type { ServerResponse } from 'node:http';

export interface SseStream {
  /** One event: `event` names it (absent: a plain message), `id` lets a client say where it was. */
  send(data: unknown, event?: string, id?: string): void;
  end(): void;
}

/** Opens a Server-Sent Events response; a comment every `keepAliveMs` keeps proxies from closing it. */
export function openSse(response: ServerResponse, keepAliveMs = 15_000): SseStream {
  response.statusCode = 200;
  response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  response.setHeader('Cache-Control', 'no-cache, no-transform');
  response.setHeader('Connection', 'keep-alive');
  response.setHeader('X-Accel-Buffering', 'no');
  response.flushHeaders();
  const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), keepAliveMs);
  keepAlive.unref();
  return {
    send(data, event, id) {
      if (response.writableEnded) return;
      const lines = [id !== undefined ? `id: ${id}` : '', event !== undefined ? `event: ${event}` : '', `data: ${JSON.stringify(data)}`].filter(Boolean);
      response.write(`${lines.join('\n')}\n\n`);
    },
    end() {
      clearInterval(keepAlive);
      if (!response.writableEnded) response.end();
    },
  };
}
