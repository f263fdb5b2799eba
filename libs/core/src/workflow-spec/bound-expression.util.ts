import { evaluateExpression, type ExprScope, hasTemplate, parseTemplate, unwrapExpression } from '../expr';

/**
 * Expressions that see one more variable than the run scope: a review's `when`, `title` and
 * `instructions` read the step's `output`; a wait's `match` reads the `event`. The shared CEL
 * environment declares only inputs, steps and run, so the value travels on `run` and CEL's own
 * `cel.bind` names it: `cel.bind(output, run.weft_bound, (<expr>))`. Type checks and evaluation
 * then treat `output` like any bound variable (dyn), and nothing else in the workflow can see it.
 */

/** `item` binds two names, `item` and `index`, of a forEach item (the bound value is `{ item, index }`). */
export type BoundVariable = 'output' | 'event' | 'item';

/** Where the bound value sits on `run` (not a name a workflow is expected to use). */
export const BOUND_VARIABLE_KEY = 'weft_bound';

/** A bare CEL expression (or one `${{ }}`) rewritten to see `variable`. */
export function boundExpression(variable: BoundVariable, source: string): string {
  return `${boundPrefix(variable)}${unwrapExpression(source)}${variable === 'item' ? ')))' : '))'}`;
}

/** Characters boundExpression puts before the user's expression (diagnostic offsets subtract it). */
export function boundPrefix(variable: BoundVariable): string {
  if (variable === 'item') return `cel.bind(item, run.${BOUND_VARIABLE_KEY}.item, cel.bind(index, run.${BOUND_VARIABLE_KEY}.index, (`;
  return `cel.bind(${variable}, run.${BOUND_VARIABLE_KEY}, (`;
}

/** The run scope with `value` bound for boundExpression. */
export function bindScope(scope: ExprScope, value: unknown): ExprScope {
  const run: ExprScope['run'] = Object.assign({}, scope.run, { [BOUND_VARIABLE_KEY]: value });
  return { ...scope, run };
}

/** Renders a text's `${{ }}` parts with `variable` bound (a title, instructions); always a string. */
export function renderBoundTemplate(variable: BoundVariable, text: string, scope: ExprScope): string {
  if (!hasTemplate(text)) return text;
  return parseTemplate(text)
    .map((part) => (part.kind === 'text' ? part.text : stringify(evaluateExpression(boundExpression(variable, part.source), scope))))
    .join('');
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
