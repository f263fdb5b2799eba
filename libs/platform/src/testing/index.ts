// `@weft/platform/testing`: helpers for the specs of services built on the platform, never imported by production code.
export * from './sql-store.testing';
export * from './projection-on-nats.testing';
export * from './projection-on-pglite.testing';
export * from './assertions.testing';
