export * from './executor.module';
