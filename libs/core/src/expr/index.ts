export * from './template';
export { celEnvironment, fromCel, toCel, SCOPE_VARIABLES, type ExprScope } from './cel';
export * from './evaluate';
export * from './check.util';
