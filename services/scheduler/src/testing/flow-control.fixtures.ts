import type { StepSpec, WorkflowSpec } from '@weft/core';
import type { ActionDefinition } from '@weft/worker';
import { MemorySlotStore } from '../persistence/memory-slot.store';
import { type MemoryShell, memoryShell, startedForEachTest } from './started-for-each-test.util';

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

/**
 * The slot specs' scheduler shell in memory: memory slots with 600 ms leases and a worker running up
 * to 64 attempts at once, with the `counts` and `gate` its `work` action uses. Read `store`, `slots`
 * and `scheduler` inside a test.
 */
export class SlotShell {
  readonly counts = new KeyCounts();
  readonly gate = new Gate();
  private parts: (MemoryShell & { slots: MemorySlotStore }) | undefined;

  get store(): MemoryShell['store'] {
    return this.started().store;
  }

  get slots(): MemorySlotStore {
    return this.started().slots;
  }

  get scheduler(): MemoryShell['scheduler'] {
    return this.started().scheduler;
  }

  /**
   * Before each test: counts cleared, the gate closed when `gateClosed`, the shell with `work` built
   * and started. After it the gate opens first (declared before startedForEachTest's stop, and
   * jest-circus runs after-hooks in order), so no held attempt outlives the worker.
   */
  forEachTest(work: ActionDefinition, { gateClosed }: { gateClosed: boolean }): void {
    afterEach(() => this.gate.open());
    startedForEachTest(() => {
      this.counts.clear();
      if (gateClosed) this.gate.close();
      const slots = new MemorySlotStore();
      this.parts = { ...memoryShell({ slots, slotLeaseMs: 600 }, [work], { concurrency: 64 }), slots };
      return this.parts;
    });
  }

  private started(): MemoryShell & { slots: MemorySlotStore } {
    if (this.parts === undefined) throw new Error('SlotShell: read outside a test');
    return this.parts;
  }
}
