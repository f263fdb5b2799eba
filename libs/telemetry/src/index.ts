export * from './tracing';
export * from './trace-context.util';
export * from './messaging.tracing';
export * from './metrics';
export * from './in-memory.tracing';
export * from './service-main';
