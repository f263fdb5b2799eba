import { ActionError, InvalidInputError } from '../action.errors';
import type { ActionDefinition } from '../action.types';

export const failAction: ActionDefinition = {
  name: 'fail',
  description:
    'Fails the step with a message and code. With untilAttempt: N it fails every attempt below N and then completes with { attempt }: a flaky step for demos and tests.',
  inputSchema: {
    type: 'object',
    properties: {
      message: { type: 'string', description: 'Error message. @default "failed on purpose"' },
      code: { type: 'string', minLength: 1, description: 'Error code. @default FAILED' },
      retryable: { type: 'boolean', description: 'false fails for good, whatever the retry policy. @default true' },
      untilAttempt: { type: 'integer', minimum: 1, description: 'First attempt that succeeds.' },
    },
  },
  handler: (input, ctx) => {
    const { untilAttempt } = input;
    if (untilAttempt !== undefined && !(Number.isInteger(untilAttempt) && (untilAttempt as number) >= 1)) {
      throw new InvalidInputError('fail', `with.untilAttempt must be an integer >= 1 (got ${JSON.stringify(untilAttempt)})`);
    }
    if (typeof untilAttempt === 'number' && ctx.attempt >= untilAttempt) return { attempt: ctx.attempt };
    const message = typeof input.message === 'string' ? input.message : 'failed on purpose';
    const code = typeof input.code === 'string' && input.code !== '' ? input.code : 'FAILED';
    throw new ActionError(code, message, { retryable: input.retryable !== false });
  },
};
