import type { StepError } from '@weft/contracts';
import { NonRetryableError, WORKER_ERROR_CODES } from './action.errors';

const MAX_MESSAGE_LENGTH = 2000;

/**
 * How a thrown value becomes the step's error: `code` when the error carries a string one,
 * `retryable` when it carries a boolean one, else retryable unless it is a NonRetryableError.
 * Duck-typed so errors from other copies of this library (or hand-made ones) map the same.
 */
export function toStepError(thrown: unknown): StepError {
  if (typeof thrown !== 'object' || thrown === null) {
    return { code: WORKER_ERROR_CODES.handlerError, message: truncate(String(thrown)), retryable: true };
  }
  const fields = thrown as { code?: unknown; message?: unknown; retryable?: unknown; name?: unknown };
  const code = typeof fields.code === 'string' && fields.code !== '' ? fields.code : WORKER_ERROR_CODES.handlerError;
  const retryable = typeof fields.retryable === 'boolean' ? fields.retryable : !(thrown instanceof NonRetryableError);
  const message = typeof fields.message === 'string' && fields.message !== '' ? fields.message : typeof fields.name === 'string' ? fields.name : String(thrown);
  return { code, message: truncate(message), retryable };
}

/**
 * The output as it will travel: a JSON round trip, so what the scheduler stores is what the handler
 * meant (Dates become strings). `undefined` becomes null. Throws when JSON cannot carry it.
 */
export function toJsonOutput(output: unknown): unknown {
  if (output === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(output);
  } catch (cause) {
    throw notSerializable(cause instanceof Error ? cause.message : String(cause), cause);
  }
  if (text === undefined) throw notSerializable(`a ${typeof output} has no JSON form`);
  return JSON.parse(text) as unknown;
}

const notSerializable = (detail: string, cause?: unknown): NonRetryableError =>
  new NonRetryableError(`the action's output is not JSON-serialisable: ${detail}`, { code: WORKER_ERROR_CODES.outputNotSerializable, cause });

const truncate = (text: string): string => (text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}...` : text);
