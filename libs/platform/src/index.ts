export * from './health.module';
export * from './service.bootstrap';
export * from './shutdown.module';
