import { randomUUID } from 'node:crypto';
import { type Actor, SIGNAL_LIMITS, type SignalSend } from '@weft/contracts';
import type { AuditQuery, AuditRecord, Page, SignalQuery, StoredSignal, WaitStore } from '../ports/wait-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import { decodeCursor } from '../persistence/wait-rows.util';
import type { ApplyEventUseCase } from './apply-event.usecase';
import { WaitError } from './wait.errors';

/** How long signals are kept (WEFT_SIGNAL_RETENTION; 0 keeps them forever). @default 7 days */
export const DEFAULT_SIGNAL_RETENTION_MS = 7 * 86_400_000;

/**
 * Signals in: stored once per id and namespace, then handed to every wait they met
 * (SignalDeliveryUseCase). The HTTP route, `weft signal` and `weft.signal.<name>` all come here.
 */
export class SignalsUseCase {
  constructor(
    private readonly waits: Pick<WaitStore, 'storeSignal' | 'listSignals' | 'listAudit' | 'appendAudit'>,
    private readonly deliveries: Pick<SignalDeliveryUseCase, 'kick'>,
  ) {}

  /** Stores a signal (and its audit record, by `actor`); a repeated id answers the first (`created` false) and delivers nothing again. */
  async send(namespace: string, input: SignalSend, actor: Actor): Promise<{ signal: StoredSignal; created: boolean }> {
    if (input.data !== undefined && Buffer.byteLength(JSON.stringify(input.data)) > SIGNAL_LIMITS.dataBytes) {
      throw new WaitError('INVALID_SIGNAL', `signal data is larger than ${SIGNAL_LIMITS.dataBytes} bytes`);
    }
    const stored = await this.waits.storeSignal(namespace, { ...input, id: input.id ?? randomUUID() }, actor);
    if (stored.created) this.deliveries.kick();
    return stored;
  }

  /** Appends the audit record of a change made through the API (after it committed; see WaitStore.appendAudit). */
  record(namespace: string, actor: Actor, action: string, target: AuditRecord['target'], details: Record<string, unknown> = {}): Promise<void> {
    return this.waits.appendAudit(namespace, actor, action, target, details);
  }

  audit(namespace: string, query: Omit<AuditQuery, 'after'> & { cursor?: string }): Promise<Page<AuditRecord>> {
    return listAudit(this.waits, namespace, query);
  }

  list(namespace: string, query: Omit<SignalQuery, 'after'> & { cursor?: string }): Promise<Page<StoredSignal>> {
    const { cursor, ...rest } = query;
    return this.waits.listSignals(namespace, { ...rest, ...(cursor !== undefined && { after: cursorOrThrow(cursor) }) });
  }
}

/** The audit log of a namespace (`GET /v1/audit`): who sent signals and decided reviews. */
export function listAudit(
  waits: Pick<WaitStore, 'listAudit'>,
  namespace: string,
  query: Omit<AuditQuery, 'after'> & { cursor?: string },
): Promise<Page<AuditRecord>> {
  const { cursor, ...rest } = query;
  return waits.listAudit(namespace, { ...rest, ...(cursor !== undefined && { after: cursorOrThrow(cursor) }) });
}

export function cursorOrThrow(cursor: string): { at: number; id: string } {
  const after = decodeCursor(cursor);
  if (after === null) throw new WaitError('INVALID_CURSOR', 'cursor is not one this API gave out');
  return after;
}

/**
 * Hands stored meetings of a wait and a signal to the core (`signal.received`), earliest
 * signal first, and forgets each once applied: the core completes the wait at most once and
 * ignores a signal that does not satisfy it (its `match`) or a wait already over. Runs after a
 * signal is stored (kick) and on every timer scan (a wait that found a signal when it began,
 * or a delivery a crash left behind). Also purges signals past their retention, now and then.
 */
export class SignalDeliveryUseCase {
  private running: Promise<void> | undefined;
  private again = false;
  /** Monotonic ms of the last purge; the first comes a purge interval after start. */
  private lastPurge = performance.now();

  constructor(
    private readonly waits: Pick<WaitStore, 'pendingDeliveries' | 'dropDelivery' | 'purgeSignals'>,
    private readonly transitions: Pick<ApplyEventUseCase, 'apply'>,
    private readonly log: SchedulerLogger,
    /** Database time (RunStore.now): retention counts on it, not on this process's clock. */
    private readonly now: () => Promise<number>,
    private readonly options: { retentionMs?: number; batch?: number; purgeEveryMs?: number } = {},
  ) {}

  /** Delivers soon; calls while a pass runs make one more pass. */
  kick(): void {
    void this.deliverPending().catch((error: unknown) => this.log.error('signal delivery failed; the next scan retries', { error: String(error) }));
  }

  /** Resolves once no pass is running (stop). */
  async drain(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** Delivers everything pending now (coalesced with a pass already running). */
  deliverPending(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const batch = this.options.batch ?? 256;
    do {
      this.again = false;
      for (;;) {
        const pending = await this.waits.pendingDeliveries(batch);
        // A drop that handed over the next page of a wait's lookback leaves more to deliver now.
        let paged = false;
        for (const d of pending) {
          await this.transitions.apply(d.runId, (at) => ({ type: 'signal.received', at, stepId: d.stepId, token: d.token, signal: d.signal }));
          if (await this.waits.dropDelivery(d)) paged = true;
        }
        if (pending.length < batch && !paged) break;
      }
    } while (this.again);
    await this.purge();
  }

  private async purge(): Promise<void> {
    const retentionMs = this.options.retentionMs ?? DEFAULT_SIGNAL_RETENTION_MS;
    // 0 keeps signals forever (as the journal's and analytics' retention variables).
    if (retentionMs <= 0) return;
    // When to purge is this process's business (a monotonic clock, no query per scan); what is old is the database's.
    const local = performance.now();
    if (local - this.lastPurge < (this.options.purgeEveryMs ?? 60_000)) return;
    this.lastPurge = local;
    const purged = await this.waits.purgeSignals((await this.now()) - retentionMs);
    if (purged > 0) this.log.info('purged signals past their retention', { purged });
  }
}
