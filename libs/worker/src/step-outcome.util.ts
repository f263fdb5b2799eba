import { checkPayload, DEFAULT_MAX_PAYLOAD_BYTES, type PayloadProblem, type StepError, storableText } from '@weft/contracts';
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
  return { code: storableText(code).slice(0, 200), message: storableText(truncate(message)), retryable };
}

/**
 * The output as it will travel: a JSON round trip, so what the scheduler stores is what the handler
 * meant (Dates become strings). `undefined` becomes null. Throws when JSON cannot carry it, when
 * it is over `maxBytes` (PAYLOAD_TOO_LARGE: checked before stringifying, so an output past V8's
 * string limit is refused without building it) or holds text PostgreSQL refuses (UNSTORABLE_OUTPUT).
 */
export function toJsonOutput(output: unknown, maxBytes: number = DEFAULT_MAX_PAYLOAD_BYTES): unknown {
  if (output === undefined) return null;
  const early = checkPayload(output, maxBytes);
  if (early?.code === 'PAYLOAD_TOO_LARGE') throw unfit(early);
  let text: string | undefined;
  try {
    text = JSON.stringify(output);
  } catch (cause) {
    throw notSerializable(cause instanceof Error ? cause.message : String(cause), cause);
  }
  if (text === undefined) throw notSerializable(`a ${typeof output} has no JSON form`);
  const parsed = JSON.parse(text) as unknown;
  // Again on what will travel: toJSON() may have made it bigger, or put a NUL in it.
  const problem = checkPayload(parsed, maxBytes);
  if (problem !== undefined) throw unfit(problem);
  return parsed;
}

const unfit = (problem: PayloadProblem): NonRetryableError =>
  new NonRetryableError(`the action's output ${problem.message}`, { code: problem.code });

const notSerializable = (detail: string, cause?: unknown): NonRetryableError =>
  new NonRetryableError(`the action's output is not JSON-serialisable: ${detail}`, { code: WORKER_ERROR_CODES.outputNotSerializable, cause });

const truncate = (text: string): string => (text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}...` : text);
