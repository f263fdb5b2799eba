export * from './config';
export * from './database-config';
export * from './blob-config';
