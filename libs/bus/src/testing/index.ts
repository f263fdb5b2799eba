// `@weft/bus/testing`: the bus contract suite every Bus implementation runs, and its helpers. Tests only.
export * from './bus.contract';
export { deferred, type Deferred, dispatch, event, heartbeat, result, TRACEPARENT, waitFor, waitForDeadLetters, within } from './bus-test.helpers';
