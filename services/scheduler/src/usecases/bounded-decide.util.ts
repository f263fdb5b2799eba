import { createHash } from 'node:crypto';
import { BLOB_ERROR_CODES, type BlobRef, checkPayload, DEFAULT_MAX_PAYLOAD_BYTES, isBlobRef, PAYLOAD_ERROR_CODES, type PayloadProblem, type StepError, storableText } from '@weft/contracts';
import { type Command, decide, type Decision, type DecideOptions, DEFAULT_MAX_FOREACH_ITEMS, type EngineEvent, type RunState, withoutRecalled } from '@weft/core';
import { type RunPayloadRefs, withInputValues, withPayloadRefs } from './run-payload-refs.util';

/** The core's options, and how run inputs and outputs go by reference (none: they stay inline, bounded by maxPayloadBytes). */
export type BoundedDecideOptions = DecideOptions & { payloadRefs?: RunPayloadRefs };

type DispatchCommand = Extract<Command, { type: 'dispatch' }>;

/** Longest error message kept from a worker (the worker truncates to 2000 already; this bounds a foreign one). */
const MAX_ERROR_MESSAGE = 4_000;

/**
 * `decide`, with every payload the decision would store or send bounded where it is made
 * (issue 12): a result whose output is over `maxPayloadBytes` or holds text PostgreSQL refuses
 * is decided as a failed attempt (PAYLOAD_TOO_LARGE / UNSTORABLE_OUTPUT, never retried), a
 * worker's error text is made storable, and a dispatch whose input is unfit is not sent: its
 * attempt is failed through `decide` in the same transaction, so the run moves on under its
 * onFailure policy (the core bounds the run's outputs itself). Without this, one such value
 * makes the transaction fail for ever (PostgreSQL) or the outbox row unpublishable (NATS).
 */
export function decideBounded(current: RunState, event: EngineEvent, boundedOptions: BoundedDecideOptions = {}): Decision<RunState> {
  const { payloadRefs, ...coreOptions } = boundedOptions;
  const state = withInputValues(current, payloadRefs);
  const decision = decideWithin(state, event, coreOptions, payloadRefs);
  return withPayloadRefs(current, state, decision, payloadRefs);
}

function decideWithin(state: RunState, event: EngineEvent, coreOptions: DecideOptions, payloadRefs: RunPayloadRefs | undefined): Decision<RunState> {
  const maxBytes = coreOptions.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  // With references on, the run's outputs may be as large as a stored output: withPayloadRefs stores them by reference.
  const options: DecideOptions = payloadRefs === undefined ? coreOptions : { ...coreOptions, maxPayloadBytes: Math.max(maxBytes, payloadRefs.maxBytes) };
  let decision = decide(state, boundedEvent(event, maxBytes), options);
  if (!decision.commands.some((c) => c.type === 'dispatch')) return decision;
  const fit = new Set<Command>();
  // Each round fails one step or forEach item for good: the plan and the item limit bound the rounds.
  const rounds = state.plan.length + (options.maxForEachItems ?? DEFAULT_MAX_FOREACH_ITEMS);
  for (let round = 0; round <= rounds; round++) {
    let unfit: { command: DispatchCommand; problem: Pick<PayloadProblem, 'message'> & { code: string } } | undefined;
    for (const command of decision.commands) {
      if (command.type !== 'dispatch' || fit.has(command)) continue;
      // Only this function puts references in inputs: one made by an expression could name another run's blob.
      const forged = Object.keys(command.input).find((key) => isBlobRef(command.input[key]));
      if (forged !== undefined) {
        unfit = { command, problem: { code: BLOB_ERROR_CODES.reservedInput, message: `${forged} is shaped like a blob reference ({$weftBlob, size}), which inputs may not hold` } };
        break;
      }
      const problem = checkPayload(command.input, maxBytes);
      const tooLarge = problem?.code === PAYLOAD_ERROR_CODES.tooLarge && options.resolveBlob !== undefined;
      const byRef = tooLarge ? (inputByReference(command, decision.state, maxBytes) ?? fieldsByReference(command, decision.state.namespace, maxBytes, payloadRefs)) : undefined;
      if (problem === undefined) fit.add(command);
      else if (byRef !== undefined) {
        fit.add(byRef);
        decision = { state: decision.state, commands: decision.commands.map((c) => (c === command ? byRef : c)) };
      } else {
        unfit = { command, problem };
        break;
      }
    }
    if (unfit === undefined) break;
    const { command, problem } = unfit;
    const error: StepError = { code: problem.code, message: `input of step ${command.stepId}: ${problem.message}`, retryable: false };
    const failed = decide(decision.state, { type: 'step.failed', at: event.at, stepId: command.stepId, attempt: command.attempt, token: command.token, error }, options);
    decision = { state: failed.state, commands: [...decision.commands.filter((c) => c !== command), ...failed.commands] };
  }
  return { state: decision.state, commands: withoutRecalled(decision.commands) };
}

/**
 * A dispatch too large because a `with` field holds a whole output stored by reference
 * (`with: { rows: "${{ steps.big.output }}" }`) carries that field as the reference instead, and
 * the worker fetches it on use (issue 12 item 4). A field is matched by content: its JSON is
 * hashed and compared with the run's stored outputs, so only an unchanged whole output qualifies.
 */
function inputByReference(command: DispatchCommand, state: RunState, maxBytes: number): DispatchCommand | undefined {
  const refs = new Map<string, BlobRef>();
  for (const step of Object.values(state.steps)) if (isBlobRef(step.output)) refs.set(step.output.$weftBlob, step.output);
  if (refs.size === 0) return undefined;
  const input: Record<string, unknown> = { ...command.input };
  for (const [key, value] of Object.entries(input)) {
    if (value === null || typeof value !== 'object') continue;
    const ref = refs.get(createHash('sha256').update(JSON.stringify(value)).digest('hex'));
    if (ref !== undefined) input[key] = ref;
  }
  return checkPayload(input, maxBytes) === undefined ? { ...command, input } : undefined;
}

/**
 * A dispatch still too large after that carries each `with` field whose JSON is above the inline
 * threshold (and at most WEFT_MAX_OUTPUT) as a blob of its own, written before the decision commits
 * (RunPayloadRefs.reference throws BlobNotStoredError until it is): a run input passed on whole
 * (`${{ inputs.doc }}`) or a value built from a large output (`steps.big.output.rows.filter(...)`).
 * The worker fetches them before calling the handler, as it does whole outputs.
 */
function fieldsByReference(command: DispatchCommand, namespace: string, maxBytes: number, refs: RunPayloadRefs | undefined): DispatchCommand | undefined {
  if (refs === undefined) return undefined;
  const input: Record<string, unknown> = { ...command.input };
  for (const [key, value] of Object.entries(input)) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'string') || isBlobRef(value)) continue;
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > refs.inlineBytes && bytes <= refs.maxBytes) input[key] = refs.reference(namespace, json);
  }
  return checkPayload(input, maxBytes) === undefined ? { ...command, input } : undefined;
}

/** A result the run could not store or send becomes the failure that says why. */
function boundedEvent(event: EngineEvent, maxBytes: number): EngineEvent {
  if (event.type === 'step.completed') {
    const problem = checkPayload(event.output, maxBytes);
    if (problem === undefined) return event;
    const { output: _output, type: _type, ...rest } = event;
    return { ...rest, type: 'step.failed', error: { code: problem.code, message: `output of step ${event.stepId}: ${problem.message}`, retryable: false } };
  }
  if (event.type === 'step.failed') {
    const { code, message } = event.error;
    const safeCode = storableText(code).slice(0, 200);
    const safeMessage = storableText(message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}...` : message);
    if (safeCode === code && safeMessage === message) return event;
    return { ...event, error: { ...event.error, code: safeCode, message: safeMessage } };
  }
  return event;
}
