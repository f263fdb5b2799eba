export * from './types';
export * from './events';
