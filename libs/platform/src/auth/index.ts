export * from './api-key.middleware';
export * from './api-key.repository';
export * from './api-key.util';
export * from './authenticator';
export * from './caller';
export * from './static-api-keys';
