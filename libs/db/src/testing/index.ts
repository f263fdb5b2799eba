// `@weft/db/testing`: helpers for tests only, never imported by production code.
export * from './postgres-test.util';
export * from './data-source.fixtures';
export * from './s3-server.util';
export * from './schema-snapshot.util';
export * from './opened-for-each-test.util';
