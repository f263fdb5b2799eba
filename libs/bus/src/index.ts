import type { JetStreamBus as JetStreamBusClass, JetStreamBusOptions } from './jetstream.bus';

export * from './bus.port';
export * from './bus.errors';
export { InMemoryBus, type InMemoryBusOptions } from './in-memory.bus';
export type { JetStreamBusOptions } from './jetstream.bus';
export { subjectMatches } from './subject.util';

/** The NATS JetStream bus (jetstream.bus.ts). */
export type JetStreamBus = JetStreamBusClass;
/**
 * `JetStreamBus.connect(options)`. Its module, and with it the NATS client (~40 ms of a start),
 * loads on the first connect: a process on the in-memory bus (`weft run`) never loads it.
 */
export const JetStreamBus = {
  connect: (options: JetStreamBusOptions): Promise<JetStreamBus> =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./jetstream.bus') as typeof import('./jetstream.bus')).JetStreamBus.connect(options),
};
