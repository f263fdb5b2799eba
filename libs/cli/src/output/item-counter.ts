import type { LifecycleEvent } from '@weft/contracts';

/** `each[12]` -> `each`: a forEach item's step (items get a counter, not a line each). */
const itemOf = (stepId: string | undefined): string | undefined => (stepId?.endsWith(']') ? /^(.+)\[\d+\]$/.exec(stepId)?.[1] : undefined);

/** Per forEach step: items done, failed and in flight, from the items' events. */
export class ItemCounter {
  private readonly steps = new Map<string, { total?: number; completed: number; failed: number; canceled: number; started: Set<string> }>();

  /** Folds an event; true when it was an item's. */
  fold(event: LifecycleEvent): boolean {
    const forEach = event.type === 'step.started' && event.stepId ? (event.data?.forEach as { total?: number } | undefined) : undefined;
    if (forEach && event.stepId) this.of(event.stepId).total = forEach.total;
    const parent = itemOf(event.stepId);
    if (parent === undefined || event.stepId === undefined) return false;
    const c = this.of(parent);
    if (event.type === 'step.queued' || event.type === 'step.started') c.started.add(event.stepId);
    else if (event.type === 'step.completed' || event.type === 'step.failed' || event.type === 'step.canceled') {
      c.started.delete(event.stepId);
      if (event.type === 'step.completed') c.completed++;
      else if (event.type === 'step.failed') c.failed++;
      else c.canceled++;
    }
    return true;
  }

  /** `12/1000 items, 50 in flight, 2 failed`, or undefined for a step without items. */
  label(stepId: string): string | undefined {
    const c = this.steps.get(stepId);
    if (!c) return undefined;
    const done = c.completed + c.failed + c.canceled;
    const parts = [`${done}/${c.total ?? '?'} items`];
    if (c.started.size > 0) parts.push(`${c.started.size} in flight`);
    if (c.failed > 0) parts.push(`${c.failed} failed`);
    return parts.join(', ');
  }

  private of(stepId: string) {
    let c = this.steps.get(stepId);
    if (!c) {
      c = { completed: 0, failed: 0, canceled: 0, started: new Set() };
      this.steps.set(stepId, c);
    }
    return c;
  }
}

/** Item failures printed one by one before the view only counts them. */
export const ITEM_FAILURES_SHOWN = 10;
