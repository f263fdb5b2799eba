import { type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { recordDeadLetter } from '@weft/telemetry';
import { type DeadLetter } from './bus.port';
import { isApiError, JS_NO_MESSAGE_FOUND } from './jetstream.util';

/** How many dead letters `deadLetters()` reads, newest last. */
const DEAD_LETTER_READ_LIMIT = 1_000;

/** The last {@link DEAD_LETTER_READ_LIMIT} records of the dead-letter stream, oldest first. */
export async function readDeadLetters(jsm: JetStreamManager, stream: string): Promise<DeadLetter[]> {
  const info = await jsm.streams.info(stream);
  const { first_seq: first, last_seq: last, messages } = info.state;
  if (messages === 0) return [];
  const records: DeadLetter[] = [];
  for (let seq = Math.max(first, last - DEAD_LETTER_READ_LIMIT + 1); seq <= last; seq++) {
    const stored = await jsm.streams.getMessage(stream, { seq }).catch((error: unknown) => {
      if (isApiError(error, JS_NO_MESSAGE_FOUND)) return null;
      throw error;
    });
    if (stored) records.push(stored.json<DeadLetter>());
  }
  return records;
}

/** Publishes a dead-letter record on `wireSubject`; `msgId` makes replicas and retries write it once. */
export async function writeDeadLetter(js: JetStreamClient, wireSubject: string, record: Omit<DeadLetter, 'at'>, msgId?: string): Promise<void> {
  const full: DeadLetter = { ...record, at: new Date().toISOString() };
  const ack = await js.publish(wireSubject, JSON.stringify(full), msgId !== undefined ? { msgID: msgId } : {});
  // Every replica that saw the max-deliveries advisory writes the record; count it once.
  if (!ack.duplicate) recordDeadLetter(record.subject);
}
