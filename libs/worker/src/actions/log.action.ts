import { InvalidInputError } from '../action.errors';
import { type ActionDefinition, LOG_LEVELS, type LogLevel } from '../action.types';

const isLevel = (value: unknown): value is LogLevel => LOG_LEVELS.includes(value as LogLevel);

export const logAction: ActionDefinition = {
  name: 'log',
  description: 'Writes a message to the worker log (with run, step and attempt) and completes with { logged: true }.',
  inputSchema: {
    type: 'object',
    required: ['message'],
    properties: {
      message: { description: 'Text to log; other values are logged as JSON.' },
      level: { type: 'string', enum: [...LOG_LEVELS], description: '@default info' },
      fields: { type: 'object', description: 'Extra structured fields for the log line.' },
    },
  },
  handler: (input, ctx) => {
    const level = input.level ?? 'info';
    if (!isLevel(level)) throw new InvalidInputError('log', `with.level must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(level)})`);
    if (input.message === undefined) throw new InvalidInputError('log', 'with.message is required');
    const message = typeof input.message === 'string' ? input.message : JSON.stringify(input.message);
    const fields = typeof input.fields === 'object' && input.fields !== null ? (input.fields as Record<string, unknown>) : undefined;
    ctx.logger[level](message, fields);
    return { logged: true };
  },
};
