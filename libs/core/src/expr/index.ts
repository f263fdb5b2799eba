export * from './template';
export { celEnvironment, type ExprDialect, fromCel, shareWithExpressions, toCel, SCOPE_VARIABLES, TRIGGER_VARIABLES, type ExprScope } from './cel';
export * from './evaluate';
export * from './check.util';
export { EXPRESSION_LIMITS, EXPRESSION_BUDGET_CODE, ExpressionBudgetError, InvalidRegexError } from './budget';
export { lazyRecord } from './lazy-record';
