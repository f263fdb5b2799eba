import { InvalidInputError } from '../action.errors';
import type { ActionDefinition } from '../action.types';
import { parseDurationMs } from '../duration.util';

/** Resolves after `ms`, or rejects with the signal's reason as soon as it fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export const sleepAction: ActionDefinition = {
  name: 'sleep',
  description: 'Waits for a duration, then completes with { sleptMs }. Stops early when the step is canceled or times out.',
  inputSchema: {
    type: 'object',
    required: ['duration'],
    properties: {
      duration: {
        description: 'How long: 500ms, 2s, 1m, 1h30m, or a number of milliseconds.',
        oneOf: [
          { type: 'string', pattern: '^(\\d+(ms|s|m|h|d))+$' },
          { type: 'number', minimum: 0 },
        ],
      },
    },
  },
  handler: async (input, ctx) => {
    const ms = parseDurationMs(input.duration);
    if (ms === undefined) throw new InvalidInputError('sleep', `with.duration must be a duration such as 500ms, 2s or 1m (got ${JSON.stringify(input.duration)})`);
    await sleep(ms, ctx.signal);
    return { sleptMs: ms };
  },
};
