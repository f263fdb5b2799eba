import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Io } from '../../io';
import { main } from '../../main';

// For the API verbs' specs: a real HTTP server that records what the CLI asked and answers
// what the test scripted, and `weft` run through main() with its output captured.

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The JSON body, parsed; undefined when none was sent. */
  body: unknown;
}

export interface RecordingServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

export async function serve(answer: (url: string, res: ServerResponse, req: Seen) => void): Promise<RecordingServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const entry: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
      seen.push(entry);
      answer(entry.url, res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const json = (res: ServerResponse, status: number, body: unknown, type = 'application/json'): void => {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body === undefined ? undefined : JSON.stringify(body));
};

export const problem = (res: ServerResponse, status: number, title: string, code: string, detail: string): void =>
  json(res, status, { type: `urn:weft:problem:${code.toLowerCase()}`, title, status, detail, code }, 'application/problem+json');

/** A Server-Sent Events answer: each [event name or undefined, data] in order, then the end. */
export const sse = (res: ServerResponse, events: [string | undefined, unknown][]): void => {
  res.writeHead(200, { 'Content-Type': 'text/event-stream' });
  res.end(events.map(([event, data]) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`).join(''));
};

export function captureIo(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, isTTY: false, out: (line) => void lines.push(line), err: (line) => void errors.push(line), write: (text) => void lines.push(text) };
}

/** `weft <args>` through main(): its exit code, stdout and stderr lines joined. */
export async function weft(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await main(['node', 'weft', ...args], io);
  return { code, out: io.lines.join('\n'), err: io.errors.join('\n') };
}
