import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export interface JetStreamGroupRemoverOptions {
  servers: string | string[];
  /** The events stream as the bus names it (JetStreamBus.streamNames(): `<PREFIX>_WEFT_EVENTS`). */
  stream: string;
}

/**
 * Deletes the durable consumer an event hub left on the events stream when it stopped.
 * The bus port has no "delete my consumer" (durables are meant to outlive a process);
 * the API's per-process group is the exception, so this speaks to JetStream directly,
 * using the bus's documented consumer name `<group>__<filter>`.
 */
export function jetStreamGroupRemover(options: JetStreamGroupRemoverOptions): (group: string) => Promise<void> {
  return async (group) => {
    const nc = await connect({ servers: options.servers, name: 'weft-api-cleanup', reconnect: false });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.delete(options.stream, `${group}__weft_event_ALL`).catch(() => false);
    } finally {
      await nc.close();
    }
  };
}

/** The events stream among a JetStreamBus's stream names. */
export function eventsStreamOf(streamNames: readonly string[]): string {
  const stream = streamNames.find((name) => name === 'WEFT_EVENTS' || name.endsWith('_WEFT_EVENTS'));
  if (stream === undefined) throw new Error(`no events stream among ${streamNames.join(', ')}`);
  return stream;
}
