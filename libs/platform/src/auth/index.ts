export * from './api-key.middleware';
export * from './api-key.repository';
export * from './api-key.util';
export * from './authenticator';
export * from './caller';
export * from './static-api-keys';
// In @weft/db, which the scheduler's migrations load without this package's Nest modules; kept here for importers.
export { ApiSchema1795400000000 } from '@weft/db';
