import { triggerKind } from '@weft/core';
import type { TriggerKind } from '../domain/fire-log';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { TriggersLogger } from '../ports/triggers-logger.port';

/** A trigger spec's kind in the fire log's terms (the spec calls it by its field). */
export function kindOf(spec: Parameters<typeof triggerKind>[0]): TriggerKind {
  return triggerKind(spec);
}

/**
 * Materialises trigger definitions from the published versions. The scheduler owns workflows
 * and versions and publishes no lifecycle event for a publish, so the leader reads its tables
 * (read only) every sync interval: publishing another version replaces a workflow's triggers,
 * unpublishing or deleting it deactivates them.
 */
export class SyncDefinitionsUseCase {
  constructor(
    private readonly store: SqlTriggerStore,
    private readonly log: TriggersLogger,
  ) {}

  async sync(nowMs: number): Promise<{ changed: number; deactivated: number }> {
    const published = await this.store.publishedWorkflows();
    return this.store.transaction(async (tx) => {
      let changed = 0;
      for (const workflow of published) {
        const kinds = new Map(workflow.triggers.map((t) => [t.id, kindOf(t)] as const));
        changed += await this.store.replaceWorkflowTriggers(tx, workflow, kinds, nowMs);
      }
      const deactivated = await this.store.deactivateUnpublished(tx, new Set(published.map((w) => `${w.namespace}/${w.workflow}`)));
      if (changed > 0 || deactivated > 0) this.log.info('trigger definitions synced', { changed, deactivated });
      return { changed, deactivated };
    });
  }
}
