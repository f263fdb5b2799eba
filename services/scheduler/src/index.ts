export * from './ports/run-store.port';
export * from './ports/workflow-catalog.port';
export * from './persistence';
export * from './scheduler';
export * from './usecases/transition.util';
export * from './scheduler.module';
export * from './workflows';
export * from './api';
