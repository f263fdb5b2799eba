export * from './api-key.middleware';
export * from './api-key.repository';
export * from './api-key.util';
export * from './authenticator';
export * from './caller';
export * from './static-api-keys';
export { ApiSchema1795400000000 } from './migrations/1795400000000-api-schema.migration';
