export * from './spec.schema';
