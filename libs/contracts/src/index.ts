export * from './statuses';
export * from './messages';
