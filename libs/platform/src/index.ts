export * from './health.module';
export * from './lifecycle-events.handler';
export * from './logger.factory';
export * from './metrics.module';
export * from './problem-details.filter';
export * from './retention.util';
export * from './service.bootstrap';
export * from './shutdown.module';
