// `@weft/core/testing`: a driver for the run machine and spec builders, for tests only.
export * from './run-driver.util';
export * from './run-machine.fixtures';
export * from './run-spec.arbitrary';
export * from './run-simulator.util';
export * from './durations.fixtures';
