import type { Bus, Subscription } from '@weft/bus';
import { type AnnouncedAction, SUBJECTS, type WorkerAnnounce } from '@weft/contracts';
import type { CatalogActionView } from '../api.schemas';

/** A worker is forgotten after this many announcement intervals without a word. */
export const MISSED_ANNOUNCEMENTS = 3;

interface Heard {
  announce: WorkerAnnounce;
  expiresAt: number;
}

/**
 * The actions a deployment can run: the built-in ones, and those live workers announce
 * on `weft.worker.announce` (kept while the worker keeps announcing).
 */
export class ActionCatalog {
  private readonly workers = new Map<string, Heard>();
  private subscription: Subscription | undefined;
  /** When start() began listening (this process's clock), for servedQueues. */
  private listeningSince: number | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly builtins: readonly AnnouncedAction[],
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.listen(SUBJECTS.workerAnnounce, (announce) => this.heard(announce));
    this.listeningSince = this.now();
  }

  async stop(): Promise<void> {
    await this.subscription?.drain();
    this.subscription = undefined;
  }

  heard(announce: WorkerAnnounce): void {
    if (announce.leaving === true) this.workers.delete(announce.workerId);
    else this.workers.set(announce.workerId, { announce, expiresAt: this.now() + MISSED_ANNOUNCEMENTS * announce.intervalMs });
  }

  /** The live workers of each queue they announce (`*`: a worker serving every queue), for "why is it waiting?". */
  liveQueues(): Map<string, string[]> {
    const now = this.now();
    const queues = new Map<string, string[]>();
    for (const [workerId, heard] of this.workers) {
      if (heard.expiresAt <= now) continue;
      for (const queue of heard.announce.queues) queues.set(queue, [...(queues.get(queue) ?? []), workerId]);
    }
    return queues;
  }

  /**
   * The queues live workers serve now (`all` when one serves every queue, `*`), for the exception
   * queue's queues without a worker. Undefined until the catalog has listened for `settleMs`:
   * before every live worker announced once it cannot tell a silent queue from an unheard one.
   */
  servedQueues(settleMs: number): string[] | 'all' | undefined {
    if (this.listeningSince === undefined || this.now() - this.listeningSince < settleMs) return undefined;
    const live = this.liveQueues();
    return live.has('*') ? 'all' : [...live.keys()];
  }

  /** Every known action by name; a name several workers serve appears once, with all their queues. */
  list(): CatalogActionView[] {
    const now = this.now();
    const byName = new Map<string, CatalogActionView>();
    const entry = (action: AnnouncedAction, builtin: boolean): CatalogActionView => {
      let found = byName.get(action.name);
      if (!found) {
        found = { name: action.name, description: action.description ?? null, inputSchema: action.inputSchema ?? null, builtin, workers: 0, queues: [] };
        byName.set(action.name, found);
      }
      found.description ??= action.description ?? null;
      found.inputSchema ??= action.inputSchema ?? null;
      return found;
    };
    for (const action of this.builtins) entry(action, true);
    for (const [workerId, heard] of this.workers) {
      if (heard.expiresAt <= now) {
        this.workers.delete(workerId);
        continue;
      }
      for (const action of heard.announce.actions) {
        const found = entry(action, false);
        found.workers += 1;
        found.queues = [...new Set([...found.queues, ...heard.announce.queues])].sort();
      }
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
