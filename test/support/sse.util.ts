/** One Server-Sent Event as a test sees it: `event` is `message` when unnamed, `data` parsed as JSON. */
export interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
}

/** Reads a `text/event-stream` response to its end (or until `until` says stop), bounded in time. */
export async function readSse(response: Response, options: { timeoutMs?: number; until?: (event: SseEvent) => boolean } = {}): Promise<SseEvent[]> {
  if (!response.body) throw new Error('the response has no body');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const timeoutMs = options.timeoutMs ?? 20_000;
  const timer = setTimeout(() => void reader.cancel(new Error(`no end of stream within ${timeoutMs}ms`)), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = parseBlock(block);
        if (!event) continue;
        events.push(event);
        if (options.until?.(event)) {
          await reader.cancel();
          return events;
        }
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

function parseBlock(block: string): SseEvent | undefined {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { event, ...(id !== undefined && { id }), data: JSON.parse(data.join('\n')) };
}
