import type { StepSpec, WorkflowSpec } from '../workflow-spec/spec.schema';
import type { Command, EngineEvent, LifecycleEventDraft } from '../engine/events';
import { createRun, decide, type DecideOptions } from '../engine/run.machine';
import type { RunState, StepError } from '../engine/types';

/** Test helpers for the engine specs (not exported from the package). */

export function workflow(steps: StepSpec[], extra: Partial<WorkflowSpec> = {}): WorkflowSpec {
  return { apiVersion: 'weft/v1', kind: 'Workflow', name: 'test-flow', steps, ...extra };
}

export type Dispatch = Extract<Command, { type: 'dispatch' }>;

/** Drives one run by hand: keeps the state, the last commands and everything emitted. */
export class RunDriver {
  state: RunState;
  last: Command[] = [];
  readonly history: Command[] = [];
  now: number;
  /** What every decision of the driver is given (a test sets a window share, a lease). */
  options: DecideOptions = {};

  constructor(spec: WorkflowSpec, inputs: Record<string, unknown> = {}, at = 1_000_000) {
    this.now = at;
    const created = createRun({ runId: 'r1', spec, version: 'v1', inputs, at });
    this.state = created.state;
    this.record(created.commands);
  }

  apply(event: EngineEvent): Command[] {
    this.now = Math.max(this.now, event.at);
    const decision = decide(this.state, event, this.options);
    this.state = decision.state;
    this.record(decision.commands);
    return decision.commands;
  }

  at(deltaMs = 0): number {
    return this.now + deltaMs;
  }

  start(): Command[] {
    return this.apply({ type: 'run.start', at: this.at() });
  }

  started(stepId: string, deltaMs = 10): Command[] {
    const s = this.step(stepId);
    return this.apply({ type: 'step.started', at: this.at(deltaMs), stepId, attempt: s.attempt, token: s.token ?? '', workerId: 'w1' });
  }

  complete(stepId: string, output: unknown = {}, deltaMs = 10): Command[] {
    const s = this.step(stepId);
    return this.apply({ type: 'step.completed', at: this.at(deltaMs), stepId, attempt: s.attempt, token: s.token ?? '', output });
  }

  /** started + completed. */
  run(stepId: string, output: unknown = {}): Command[] {
    this.started(stepId);
    return this.complete(stepId, output);
  }

  fail(stepId: string, error: StepError, deltaMs = 10): Command[] {
    const s = this.step(stepId);
    return this.apply({ type: 'step.failed', at: this.at(deltaMs), stepId, attempt: s.attempt, token: s.token ?? '', error });
  }

  step(id: string) {
    const s = this.state.steps[id];
    if (!s) throw new Error(`no step ${id}`);
    return s;
  }

  private record(commands: Command[]): void {
    this.last = commands;
    this.history.push(...commands);
  }
}

/** The commands of one type, typed. */
export const commandsOf = <T extends Command['type']>(commands: readonly Command[], type: T): Extract<Command, { type: T }>[] =>
  commands.filter((c): c is Extract<Command, { type: T }> => c.type === type);

export const dispatches = (commands: readonly Command[]): Dispatch[] => commands.filter((c): c is Dispatch => c.type === 'dispatch');
export const dispatchedIds = (commands: readonly Command[]): string[] => dispatches(commands).map((d) => d.stepId);
export const emitted = (commands: readonly Command[]): LifecycleEventDraft[] =>
  commands.flatMap((c) => (c.type === 'emit' ? [c.event] : []));
export const emittedTypes = (commands: readonly Command[]): string[] => emitted(commands).map((e) => (e.stepId ? `${e.type}:${e.stepId}` : e.type));

/** Freezes a state deeply so that any mutation by decide throws (specs run in strict mode). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
  return value;
}
