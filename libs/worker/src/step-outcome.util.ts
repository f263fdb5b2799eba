import { BLOB_ERROR_CODES, type BlobStore, checkPayload, DEFAULT_MAX_PAYLOAD_BYTES, holdsReservedKey, isBlobRef, PAYLOAD_ERROR_CODES, type PayloadProblem, type StepError, storableText } from '@weft/contracts';
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

/** Where a worker puts outputs too big to travel inline (issue 12 item 4). */
export interface OutputBlobs {
  /** `put` for large outputs; `get` for dispatch inputs that carry a reference (fetched on use). */
  store: Pick<BlobStore, 'put' | 'get'>;
  /** Outputs whose JSON is larger go to `store` (WEFT_INLINE_PAYLOAD_MAX; at most the message bound). */
  inlinePayloadBytes: number;
  /** Largest output stored by reference (WEFT_MAX_OUTPUT). */
  maxOutputBytes: number;
}

/**
 * The output a result carries: inline as {@link toJsonOutput} makes it, or, with `blobs` and a JSON
 * text over the inline threshold, a `{ $weftBlob, size }` reference to its exact bytes in the store.
 * A handler output using the reserved `$weftBlob` key at its top level is refused (it could pass
 * for a reference to another run's blob).
 */
export async function toResultOutput(output: unknown, maxPayloadBytes: number, blobs?: OutputBlobs): Promise<unknown> {
  if (holdsReservedKey(output)) {
    throw new NonRetryableError(`the action's output uses the reserved key $weftBlob at its top level`, { code: BLOB_ERROR_CODES.reserved });
  }
  if (blobs === undefined) return toJsonOutput(output, maxPayloadBytes);
  const inline = Math.min(blobs.inlinePayloadBytes, maxPayloadBytes);
  const max = Math.max(blobs.maxOutputBytes, inline);
  const early = checkPayload(output, max);
  if (early?.code === PAYLOAD_ERROR_CODES.tooLarge) throw tooLargeForBlob(max);
  if (checkPayload(output, inline) === undefined) return toJsonOutput(output, inline);
  const parsed = toJsonOutput(output, max);
  const bytes = Buffer.from(JSON.stringify(parsed));
  if (bytes.byteLength > max) throw tooLargeForBlob(max);
  return bytes.byteLength <= inline ? parsed : blobs.store.put('', bytes);
}

/**
 * The input a handler sees: a top-level field the scheduler sent as a blob reference (a whole large
 * output, too big for the dispatch message) is fetched and parsed. Without a blob store, or for a
 * blob the store does not hold, the step fails with BLOB_MISSING (never retried: the same dispatch
 * names the same blob).
 */
/** Whether any top-level input field is a blob reference (checked synchronously: most dispatches have none). */
export function holdsBlobRefs(input: Record<string, unknown>): boolean {
  for (const key in input) if (Object.prototype.hasOwnProperty.call(input, key) && isBlobRef(input[key])) return true;
  return false;
}

export async function resolveInputRefs(input: Record<string, unknown>, blobs: OutputBlobs | undefined): Promise<Record<string, unknown>> {
  let resolved: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(input)) {
    if (!isBlobRef(value)) continue;
    const bytes = await blobs?.store.get(value.$weftBlob);
    if (bytes === undefined) {
      throw new NonRetryableError(`input ${key} names blob ${value.$weftBlob}, which ${blobs ? 'the store does not hold' : 'this worker cannot read (no blob store: give it DATABASE_URL)'}`, {
        code: BLOB_ERROR_CODES.missing,
      });
    }
    resolved ??= { ...input };
    resolved[key] = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  }
  return resolved ?? input;
}

const tooLargeForBlob = (max: number): NonRetryableError =>
  new NonRetryableError(`the action's output is larger than the ${max}-byte limit (WEFT_MAX_OUTPUT)`, { code: PAYLOAD_ERROR_CODES.tooLarge });

const unfit = (problem: PayloadProblem): NonRetryableError =>
  new NonRetryableError(`the action's output ${problem.message}`, { code: problem.code });

const notSerializable = (detail: string, cause?: unknown): NonRetryableError =>
  new NonRetryableError(`the action's output is not JSON-serialisable: ${detail}`, { code: WORKER_ERROR_CODES.outputNotSerializable, cause });

const truncate = (text: string): string => (text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}...` : text);
