export * from './bus.port';
export * from './bus.errors';
export { InMemoryBus, type InMemoryBusOptions } from './in-memory.bus';
