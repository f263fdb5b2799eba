// `@weft/bus/testing`: the bus contract suite every Bus implementation runs, and its helpers. Tests only.
export * from './bus.contract';
