export * from './bus.port';
export * from './bus.errors';
export { InMemoryBus, type InMemoryBusOptions } from './in-memory.bus';
export { JetStreamBus, type JetStreamBusOptions } from './jetstream.bus';
export { subjectMatches } from './subject.util';
