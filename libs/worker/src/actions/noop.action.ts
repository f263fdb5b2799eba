import type { ActionDefinition } from '../action.types';

export const noopAction: ActionDefinition = {
  name: 'noop',
  description: 'Does nothing; its output is its input. Handy as a join point or placeholder.',
  inputSchema: { type: 'object', additionalProperties: true },
  handler: (input) => input,
};
