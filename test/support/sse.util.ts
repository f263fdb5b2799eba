import { readServerSentEvents } from '@weft/sdk';

/** One Server-Sent Event as a test sees it: `event` is `message` when unnamed, `data` parsed as JSON. */
export interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
}

/**
 * Reads a `text/event-stream` response to its end (or until `until` says stop), bounded in
 * time, with the SDK's parser: the tests read streams exactly as clients do.
 */
export async function readSse(response: Response, options: { timeoutMs?: number; until?: (event: SseEvent) => boolean } = {}): Promise<SseEvent[]> {
  if (!response.body) throw new Error('the response has no body');
  const stream = readServerSentEvents(response.body);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  const events: SseEvent[] = [];
  let timedOut = false;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error(`no end of stream within ${timeoutMs}ms`));
        }, Math.max(0, deadline - Date.now()));
      });
      const next = await Promise.race([stream.next(), expired]).finally(() => clearTimeout(timer));
      if (next.done) return events;
      const { event, id, data } = next.value;
      const parsed: SseEvent = { event, ...(id !== undefined && { id }), data: JSON.parse(data) as unknown };
      events.push(parsed);
      if (options.until?.(parsed)) return events;
    }
  } finally {
    // Ends the generator, which cancels the body. After a timeout a read is still pending and
    // return() waits for it, so it is not awaited then (the server's close ends the read).
    const ended = stream.return(undefined);
    if (!timedOut) await ended;
  }
}
