import { type BlobRef, isBlobRef } from '@weft/contracts';
import type { Command, Decision, RunState } from '@weft/core';

/**
 * Run inputs, run outputs and a child run's inputs by reference (issue 12 item 4), around the
 * core's decide, which stays unaware of them: before deciding, a run whose inputs are a reference
 * gets their value (expressions read `inputs.*`); after, the reference is put back, and outputs
 * (or a child's inputs) the decision made larger than the inline threshold are replaced by the
 * reference to their blob in the state and in every command that carries them (the run's
 * lifecycle event, the parent's result, the child's run request). So the run row, the outbox,
 * NATS messages and the journal's events and checkpoints hold the small reference only.
 */
export interface RunPayloadRefs {
  /** JSON larger than this (bytes) is stored by reference (WEFT_INLINE_PAYLOAD_MAX). */
  inlineBytes: number;
  /** Largest run output kept (bytes of JSON; WEFT_MAX_OUTPUT): the core's bound on outputs while refs are on. */
  maxBytes: number;
  /** A blob's value; throws BlobNotLoadedError when not in memory (BlobValues.resolve). */
  resolve(ref: BlobRef): unknown;
  /** The reference to `json`; throws BlobNotStoredError when its blob is not written yet (BlobValues.reference). */
  reference(namespace: string, json: string): BlobRef;
}

/** The state the core decides on: inputs stored by reference replaced by their value. */
export function withInputValues(state: RunState, refs: RunPayloadRefs | undefined): RunState {
  if (refs === undefined || !isBlobRef(state.inputs)) return state;
  const value = refs.resolve(state.inputs);
  // A blob the store lost resolves to its reference plus an error: expressions then fail their step.
  return { ...state, inputs: (value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {}) as Record<string, unknown> };
}

/**
 * The decision as stored and sent: `current` is the state before (inputs as stored), `decided`
 * the state the core was given (withInputValues). Keeps the decision's identity when nothing
 * changed, so the store writes nothing.
 */
export function withPayloadRefs(current: RunState, decided: RunState, decision: Decision<RunState>, refs: RunPayloadRefs | undefined): Decision<RunState> {
  if (refs === undefined) return decision;
  let state = decision.state === decided ? current : decision.state;
  if (state !== current && state.inputs !== current.inputs && decided !== current) state = { ...state, inputs: current.inputs };
  const swaps = new Map<unknown, BlobRef>();
  if (state.outputs !== undefined && state.outputs !== current.outputs && !isBlobRef(state.outputs)) {
    const ref = byReference(state.namespace, state.outputs, refs);
    if (ref !== undefined) {
      swaps.set(state.outputs, ref);
      state = { ...state, outputs: asRecord(ref) };
    }
  }
  let commands = decision.commands;
  if (swaps.size > 0 || commands.some((c) => c.type === 'start-child')) {
    commands = commands.map((command) => swapped(command, swaps, state.namespace, refs));
  }
  return state === decision.state && commands === decision.commands ? decision : { state, commands };
}

function swapped(command: Command, swaps: Map<unknown, BlobRef>, namespace: string, refs: RunPayloadRefs): Command {
  if (command.type === 'emit') {
    const ref = swaps.get(command.event.data?.outputs);
    return ref === undefined ? command : { ...command, event: { ...command.event, data: { ...command.event.data, outputs: ref } } };
  }
  if (command.type === 'notify-parent') {
    const ref = swaps.get(command.outputs);
    return ref === undefined ? command : { ...command, outputs: asRecord(ref) };
  }
  if (command.type === 'start-child' && !isBlobRef(command.inputs)) {
    const ref = byReference(namespace, command.inputs, refs);
    return ref === undefined ? command : { ...command, inputs: asRecord(ref) };
  }
  return command;
}

/** The reference for `value` when its JSON is above the inline threshold; undefined when it stays inline. */
function byReference(namespace: string, value: unknown, refs: RunPayloadRefs): BlobRef | undefined {
  const json = JSON.stringify(value);
  if (json === undefined || Buffer.byteLength(json, 'utf8') <= refs.inlineBytes) return undefined;
  return refs.reference(namespace, json);
}

function asRecord(ref: BlobRef): Record<string, unknown> {
  return ref as unknown as Record<string, unknown>;
}
