import type { StepSpec, WorkflowSpec } from '@weft/core';

/** Attempts in a flow-control spec's `work` action now, per key, and the most seen at once. */
export class KeyCounts {
  readonly running = new Map<string, number>();
  readonly most = new Map<string, number>();

  enter(key: string): void {
    this.running.set(key, (this.running.get(key) ?? 0) + 1);
    this.most.set(key, Math.max(this.most.get(key) ?? 0, this.running.get(key) ?? 0));
  }

  leave(key: string): void {
    this.running.set(key, (this.running.get(key) ?? 0) - 1);
  }

  clear(): void {
    this.running.clear();
    this.most.clear();
  }
}

/** Workflow `name` of the flow-control specs: one step `call` running `work` for `inputs.customer`, with `flow` (its concurrency or rate limit). */
export const customerFlow = (name: string, flow: Partial<StepSpec>): WorkflowSpec => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name,
  inputs: { customer: { type: 'string' } },
  steps: [{ id: 'call', action: 'work', with: { key: '${{ inputs.customer }}' }, ...flow }],
});

/** Holds the specs' `work` attempts while closed; `open()` lets every held and later attempt through. */
export class Gate {
  private opened: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  /** Resolves once the gate is open. */
  passed(): Promise<void> {
    return this.opened;
  }

  close(): void {
    this.opened = new Promise<void>((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release();
    this.opened = Promise.resolve();
  }
}
