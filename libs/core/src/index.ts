export * from './spec/spec.schema';
export * from './engine/types';
export * from './engine/events';
