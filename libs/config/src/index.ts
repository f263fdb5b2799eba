export * from './config';
export * from './database-config';
