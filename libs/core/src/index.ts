export * from './workflow-spec';
export * from './expr';
export * from './dag';
export * from './engine';
