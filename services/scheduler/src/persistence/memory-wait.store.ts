import type { Actor, SignalSend } from '@weft/contracts';
import type { RunState } from '@weft/core';
import type {
  AuditQuery,
  AuditRecord,
  Delivery,
  ExceptionItem,
  ExceptionKind,
  ExceptionQuery,
  Page,
  ReviewQuery,
  ReviewRecord,
  SignalQuery,
  StoredSignal,
  WaitCommand,
  WaitStore,
} from '../ports/wait-store.port';
import { decisionDetails, page, reviewFromCommand, signalDetails } from './wait-rows.util';

interface WaitRow {
  runId: string;
  stepId: string;
  namespace: string;
  name: string;
  key?: string;
  token: string;
  since: number;
  expiresAt: number;
}

/**
 * WaitStore in process memory, beside MemoryRunStore (which calls `applyTransition` with each
 * transition's wait commands). Every operation is synchronous between awaits, so a wait and a
 * signal meet under JavaScript's own serialisation.
 */
export class MemoryWaitStore implements WaitStore {
  private readonly signals = new Map<string, StoredSignal>();
  private readonly waits = new Map<string, WaitRow>();
  private readonly deliveries = new Map<string, Delivery>();
  private readonly reviews = new Map<string, ReviewRecord>();
  private readonly audit: AuditRecord[] = [];
  private readonly resolutions = new Map<string, NonNullable<ExceptionItem['resolved']>>();

  constructor(
    private readonly clock: () => number = Date.now,
    /** The runs of the store beside it (failed runs are exceptions). */
    private readonly runs: () => Iterable<RunState> = () => [],
  ) {}

  /** The wait and review rows of one committed transition, in command order. */
  applyTransition(state: RunState, commands: readonly WaitCommand[]): void {
    const now = this.clock();
    for (const command of commands) {
      switch (command.type) {
        case 'register-wait': {
          const wait: WaitRow = { runId: state.runId, stepId: command.stepId, namespace: state.namespace, name: command.name, token: command.token, since: command.since, expiresAt: command.expiresAt };
          if (command.key !== undefined) wait.key = command.key;
          this.waits.set(waitId(state.runId, command.stepId), wait);
          const met = [...this.signals.values()]
            .filter((s) => s.namespace === wait.namespace && meets(wait, s))
            .sort((a, b) => a.receivedAt - b.receivedAt || compare(a.id, b.id));
          for (const signal of met) this.deliver(wait, signal);
          break;
        }
        case 'cancel-wait': {
          const id = waitId(state.runId, command.stepId);
          if (this.waits.get(id)?.token === command.token) this.waits.delete(id);
          for (const [key, d] of this.deliveries) if (d.runId === state.runId && d.stepId === command.stepId && d.token === command.token) this.deliveries.delete(key);
          break;
        }
        case 'open-review':
          if (!this.reviews.has(command.reviewId)) this.reviews.set(command.reviewId, reviewFromCommand(state, command, now));
          break;
        case 'escalate-review': {
          const review = this.reviews.get(command.reviewId);
          if (review?.status === 'open') {
            const escalated: ReviewRecord = { ...review, tier: command.tier, assignees: [...command.assignees], overdue: command.overdue === true };
            if (command.decisionId !== undefined) escalated.decisionId = command.decisionId;
            this.reviews.set(review.id, escalated);
          }
          break;
        }
        case 'close-review': {
          const review = this.reviews.get(command.reviewId);
          if (review?.status !== 'open') break;
          const closed: ReviewRecord = { ...review, status: command.outcome, decidedAt: now };
          if (command.decision !== undefined) closed.decision = command.decision;
          if (command.actor !== undefined) closed.actor = command.actor;
          if (command.comment !== undefined) closed.comment = command.comment;
          if (command.payload !== undefined) closed.payload = command.payload;
          if (command.decisionId !== undefined) closed.decisionId = command.decisionId;
          this.reviews.set(review.id, closed);
          if (command.outcome === 'decided' && command.actor !== undefined) this.append(state.namespace, command.actor, 'review.decided', { kind: 'review', id: review.id }, decisionDetails(review, command), now);
          break;
        }
      }
    }
  }

  async storeSignal(namespace: string, send: SignalSend & { id: string }, actor: Actor): Promise<{ signal: StoredSignal; created: boolean }> {
    const existing = this.signals.get(signalId(namespace, send.id));
    if (existing) return { signal: existing, created: false };
    const signal: StoredSignal = { namespace, id: send.id, name: send.name, receivedAt: this.clock() };
    if (send.key !== undefined) signal.key = send.key;
    if (send.data !== undefined) signal.data = send.data;
    this.signals.set(signalId(namespace, send.id), signal);
    this.append(namespace, actor, 'signal.sent', { kind: 'signal', id: send.id }, signalDetails(signal), signal.receivedAt);
    for (const wait of this.waits.values()) if (wait.namespace === namespace && meets(wait, signal)) this.deliver(wait, signal);
    return { signal, created: true };
  }

  async listSignals(namespace: string, query: SignalQuery): Promise<Page<StoredSignal>> {
    const rows = [...this.signals.values()]
      .filter((s) => s.namespace === namespace && (query.name === undefined || s.name === query.name) && (query.key === undefined || s.key === query.key))
      .filter((s) => (query.since === undefined || s.receivedAt >= query.since) && after(s.receivedAt, s.id, query.after))
      .sort((a, b) => a.receivedAt - b.receivedAt || compare(a.id, b.id));
    return page(rows, query.limit, (s) => ({ at: s.receivedAt, id: s.id }));
  }

  async pendingDeliveries(limit: number): Promise<Delivery[]> {
    return [...this.deliveries.values()].sort((a, b) => a.signal.receivedAt - b.signal.receivedAt || compare(a.signal.id, b.signal.id)).slice(0, limit);
  }

  /** In memory the whole lookback is handed over at once (no pages). */
  async dropDelivery(delivery: Pick<Delivery, 'runId' | 'stepId' | 'signal'>): Promise<boolean> {
    this.deliveries.delete(deliveryId(delivery.runId, delivery.stepId, delivery.signal.id));
    return false;
  }

  async purgeSignals(before: number): Promise<number> {
    let purged = 0;
    for (const [key, s] of this.signals) {
      if (s.receivedAt < before) {
        this.signals.delete(key);
        purged++;
      }
    }
    return purged;
  }

  async getReview(namespace: string, id: string): Promise<ReviewRecord | undefined> {
    const review = this.reviews.get(id);
    return review?.namespace === namespace ? review : undefined;
  }

  async listReviews(namespace: string, query: ReviewQuery): Promise<Page<ReviewRecord>> {
    const rows = [...this.reviews.values()]
      .filter((r) => r.namespace === namespace && (query.status === undefined || r.status === query.status) && (query.workflow === undefined || r.workflow === query.workflow))
      .filter((r) => (query.assignee === undefined || r.assignees.includes(query.assignee)) && after(r.openedAt, r.id, query.after))
      .sort((a, b) => a.openedAt - b.openedAt || compare(a.id, b.id));
    return page(rows, query.limit, (r) => ({ at: r.openedAt, id: r.id }));
  }

  async appendAudit(namespace: string, actor: Actor, action: string, target: AuditRecord['target'], details: Record<string, unknown>): Promise<void> {
    this.append(namespace, actor, action, target, details, this.clock());
  }

  async listAudit(namespace: string, query: AuditQuery): Promise<Page<AuditRecord>> {
    const rows = this.audit.filter(
      (r) =>
        r.namespace === namespace &&
        (query.action === undefined || r.action === query.action) &&
        (query.actor === undefined || (r.actor === 'local' ? 'local' : r.actor.keyId) === query.actor) &&
        (query.target === undefined || (r.target.kind === query.target.kind && r.target.id === query.target.id)) &&
        (query.since === undefined || r.at >= query.since) &&
        (query.after === undefined || r.at > query.after.at || (r.at === query.after.at && Number(r.id) > Number(query.after.id))),
    );
    return page(rows, query.limit, (r) => ({ at: r.at, id: r.id }));
  }

  async listExceptions(namespace: string, query: ExceptionQuery): Promise<Page<ExceptionItem>> {
    const items: ExceptionItem[] = [];
    for (const r of this.reviews.values()) {
      if (r.namespace !== namespace || r.status !== 'open') continue;
      items.push({ kind: reviewKind(r), id: r.id, workflow: r.workflow, runId: r.runId, stepId: r.stepId, summary: r.title, at: r.openedAt });
    }
    for (const run of this.runs()) {
      if (run.namespace !== namespace || run.status !== 'failed') continue;
      items.push({ kind: 'failed', id: run.runId, workflow: run.workflow, runId: run.runId, summary: run.error ? `${run.error.code}: ${run.error.message}` : 'failed', at: run.finishedAt ?? run.createdAt });
    }
    if (query.liveQueues !== undefined && query.liveQueues !== 'all') items.push(...queueItems(this.runs(), namespace, query.liveQueues, query.workflow));
    const rows = items
      .map((item) => {
        const resolved = this.resolutions.get(exceptionKey(namespace, item.kind, item.id));
        return resolved ? { ...item, resolved } : item;
      })
      .filter((i) => (query.resolved === true || i.resolved === undefined) && (query.kind === undefined || i.kind === query.kind) && (query.workflow === undefined || i.workflow === query.workflow))
      .filter((i) => (query.since === undefined || i.at >= query.since) && after(i.at, i.id, query.after))
      .sort((a, b) => a.at - b.at || compare(a.id, b.id));
    return page(rows, query.limit, (i) => ({ at: i.at, id: i.id }));
  }

  async resolveException(namespace: string, kind: ExceptionKind, id: string, note: string, actor: Actor, options: { listedElsewhere?: boolean } = {}): Promise<'resolved' | 'already' | 'unknown'> {
    const key = exceptionKey(namespace, kind, id);
    if (this.resolutions.has(key)) return 'already';
    const exists = options.listedElsewhere === true || (await this.listExceptions(namespace, { kind, resolved: true, limit: 100_000 })).items.some((i) => i.id === id);
    if (!exists) return 'unknown';
    const at = this.clock();
    this.resolutions.set(key, { note, actor, at });
    this.append(namespace, actor, 'exception.resolved', { kind, id }, { note }, at);
    return 'resolved';
  }

  async listResolutions(namespace: string, kind: ExceptionKind, ids: readonly string[]): Promise<Map<string, NonNullable<ExceptionItem['resolved']>>> {
    const found = new Map<string, NonNullable<ExceptionItem['resolved']>>();
    for (const id of ids) {
      const resolved = this.resolutions.get(exceptionKey(namespace, kind, id));
      if (resolved) found.set(id, resolved);
    }
    return found;
  }

  async counts(): Promise<{ signals: number; waits: number; deliveries: number; reviews: number }> {
    return { signals: this.signals.size, waits: this.waits.size, deliveries: this.deliveries.size, reviews: this.reviews.size };
  }

  private append(namespace: string, actor: Actor, action: string, target: AuditRecord['target'], details: Record<string, unknown>, at: number): void {
    this.audit.push({ id: String(this.audit.length + 1), at, namespace, actor, action, target, details });
  }

  private deliver(wait: WaitRow, signal: StoredSignal): void {
    const { namespace: _ns, ...received } = signal;
    this.deliveries.set(deliveryId(wait.runId, wait.stepId, signal.id), { runId: wait.runId, stepId: wait.stepId, token: wait.token, signal: received });
  }
}

/** The name, the key (a keyless wait takes any) and the time window; `match` is the core's. */
function meets(wait: WaitRow, signal: StoredSignal): boolean {
  return signal.name === wait.name && (wait.key === undefined || signal.key === wait.key) && signal.receivedAt >= wait.since && signal.receivedAt < wait.expiresAt;
}

const reviewKind = (r: ReviewRecord): ExceptionKind => (r.overdue ? 'blocked' : r.byRule ? 'low-confidence' : 'review');
const exceptionKey = (namespace: string, kind: string, id: string): string => `${namespace}\u0000${kind}\u0000${id}`;
const after = (at: number, id: string, cursor: { at: number; id: string } | undefined): boolean => cursor === undefined || at > cursor.at || (at === cursor.at && id > cursor.id);
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const waitId = (runId: string, stepId: string): string => `${runId}\u0000${stepId}`;
const signalId = (namespace: string, id: string): string => `${namespace}\u0000${id}`;
const deliveryId = (runId: string, stepId: string, id: string): string => `${runId}\u0000${stepId}\u0000${id}`;

/** Queues with queued steps of the namespace and no live worker, one item per queue (its oldest step names the run). */
function queueItems(runs: Iterable<RunState>, namespace: string, live: readonly string[], workflow: string | undefined): ExceptionItem[] {
  const byQueue = new Map<string, { oldest: { run: RunState; stepId: string; at: number }; steps: number; runs: Set<string> }>();
  for (const run of runs) {
    if (run.namespace !== namespace || (run.status !== 'running' && run.status !== 'waiting') || (workflow !== undefined && run.workflow !== workflow)) continue;
    for (const step of Object.values(run.steps)) {
      if (step.status !== 'queued') continue;
      const queue = run.plan.find((p) => p.id === step.id.replace(/\[\d+\]$/, ''))?.queue ?? 'default';
      if (live.includes(queue)) continue;
      const at = step.queuedAt ?? run.createdAt;
      const entry = byQueue.get(queue) ?? { oldest: { run, stepId: step.id, at }, steps: 0, runs: new Set<string>() };
      if (at < entry.oldest.at) entry.oldest = { run, stepId: step.id, at };
      entry.steps += 1;
      entry.runs.add(run.runId);
      byQueue.set(queue, entry);
    }
  }
  return [...byQueue].map(([queue, e]) => ({
    kind: 'blocked',
    id: `queue:${queue}`,
    workflow: e.oldest.run.workflow,
    runId: e.oldest.run.runId,
    stepId: e.oldest.stepId,
    summary: `queue ${queue}: ${e.steps} dispatched step(s) of ${e.runs.size} run(s), and no live worker serves it`,
    at: e.oldest.at,
  }));
}
