import type { ActionDefinition } from '../action.types';

/** The scheduler evaluates the step's CEL expression and dispatches `{ value }`: the worker only hands it back. */
export const transformAction: ActionDefinition = {
  name: 'transform',
  description: 'Reshapes data with a CEL expression (evaluated by the scheduler); the output is the expression\'s value.',
  inputSchema: {
    type: 'object',
    properties: {
      expr: { type: 'string', description: 'CEL expression over inputs and steps, e.g. steps.fetch.output.body.items.map(i, i.id).' },
      value: { description: 'The evaluated expression, as dispatched by the scheduler.' },
    },
  },
  handler: (input) => (input.value === undefined ? null : input.value),
};
