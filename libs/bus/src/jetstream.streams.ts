import { DiscardPolicy, JetStreamApiError, type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { errorMessage } from './bus.defaults';
import { BusError } from './bus.errors';
import { isApiError, JS_NO_SUITABLE_PEERS, JS_REPLICAS_NOT_SUPPORTED, JS_STREAM_NOT_FOUND } from './jetstream.util';
import { type Settings } from './jetstream.options';
import { DEAD_LETTER_STREAM, MESSAGE_STREAMS, type StreamLayout } from './subject.util';

type StreamSetup = Partial<StreamConfig> & { name: string };

/** What stream setup needs from its bus. */
export interface StreamSetupContext {
  nc: NatsConnection;
  jsm: JetStreamManager;
  settings: Settings;
  streamName(layout: StreamLayout): string;
  wire(subject: string): string;
}

/** Create or update each stream: boots are idempotent and pick up changed limits (and replicas, when given). */
export async function ensureStreams(bus: StreamSetupContext): Promise<void> {
  const window = bus.settings.duplicateWindowMs;
  const { replicas } = bus.settings;
  // A standalone server refuses to create a replicated stream, but nats-server 2.9 accepts an
  // update to more replicas and then reports a count it does not keep: refuse before either.
  if (replicas !== undefined && replicas > 1 && bus.nc.info?.cluster === undefined) {
    throw replicasError(replicas, `the NATS server ${bus.nc.getServer()} is standalone (no cluster), and standalone JetStream keeps one copy of each stream`);
  }
  for (const layout of [...MESSAGE_STREAMS, DEAD_LETTER_STREAM]) {
    const maxAgeMs = layout === DEAD_LETTER_STREAM ? bus.settings.deadLetterMaxAgeMs : layout.retention === 'limits' ? bus.settings.eventsMaxAgeMs : 0;
    const config: StreamSetup = {
      name: bus.streamName(layout),
      subjects: layout.subjects.map((s) => bus.wire(s)),
      retention: layout.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(maxAgeMs),
      // The server rejects a duplicate window longer than max age.
      duplicate_window: nanos(maxAgeMs > 0 ? Math.min(window, maxAgeMs) : window),
      num_replicas: replicas ?? 1,
    };
    await createOrUpdateStream(bus, config);
  }
}

async function createOrUpdateStream(bus: StreamSetupContext, config: StreamSetup): Promise<void> {
  const replicas = config.num_replicas ?? 1;
  try {
    await bus.jsm.streams.info(config.name);
  } catch (error) {
    if (!isApiError(error, JS_STREAM_NOT_FOUND)) throw error;
    try {
      await bus.jsm.streams.add(config);
      return;
    } catch (addError) {
      throwIfReplicasRefused(addError, replicas);
      // Another process created it meanwhile: fall through to update.
      if (!(addError instanceof JetStreamApiError)) throw addError;
    }
  }
  const { name, ...update } = config;
  // The client merges the update into the stream's config: left out, the replica count stays.
  if (bus.settings.replicas === undefined) delete update.num_replicas;
  try {
    await bus.jsm.streams.update(name, update);
  } catch (error) {
    throwIfReplicasRefused(error, replicas);
    throw error;
  }
}

function replicasError(replicas: number, why: string): BusError {
  return new BusError(
    'INVALID_OPTIONS',
    `cannot keep ${replicas} replicas of Weft's streams (option replicas, WEFT_NATS_REPLICAS=${replicas}): ${why}. ` +
      'Use 1 with a standalone server, or at most the number of JetStream servers of the cluster.',
  );
}

/** Turns the server's refusals of a replica count into an error that names the setting. */
function throwIfReplicasRefused(error: unknown, replicas: number): void {
  if (replicas <= 1) return;
  if (isApiError(error, JS_REPLICAS_NOT_SUPPORTED)) throw replicasError(replicas, `the server refused (${errorMessage(error)})`);
  if (isApiError(error, JS_NO_SUITABLE_PEERS)) {
    throw replicasError(replicas, `the JetStream cluster has fewer than ${replicas} servers available to place them on (${errorMessage(error)})`);
  }
}

