import { request } from './client';

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/**
 * Server-Sent Events over fetch rather than EventSource: EventSource cannot send the
 * Authorization header, and the key must never go into the URL.
 */
export async function* readSse(path: string, signal: AbortSignal): AsyncGenerator<SseMessage> {
  const res = await request(path, { headers: { Accept: 'text/event-stream' }, signal });
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), ...(id !== undefined && { id }) };
        event = '';
        data = [];
        id = undefined;
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id') id = val;
      }
    }
  }
}
