export * from './spec';
export * from './expr';
export * from './dag';
export * from './engine';
