import type { Actor } from '@weft/contracts';
import type { Caller } from '@weft/platform';
import type { AuditRecord } from '../ports/wait-store.port';
import type { SignalsUseCase } from '../usecases/signals.usecase';
import type { WaitActors } from '../usecases/wait-actors';

/**
 * The audit record of a change made through the API: the caller as actor (key id and name, or
 * `local`), appended once the change has committed. Controllers call it only after the use case
 * answered, so a failed change records nothing.
 */
export class ApiAudit {
  constructor(
    private readonly signals: Pick<SignalsUseCase, 'record'>,
    private readonly actors: Pick<WaitActors, 'of'>,
  ) {}

  /** The caller as runs and records name it. */
  actorOf(caller: Caller): Promise<Actor> {
    return this.actors.of(caller);
  }

  /**
   * Records a run start (unless an idempotency key replayed an earlier run), then answers. A
   * stream answers beside the record instead, so it subscribes while the run is young.
   */
  async started(caller: Caller, action: 'run.started' | 'run.rerun', started: { runId: string; created: boolean }, details: Record<string, unknown>, mode: { stream?: string }, answer: () => Promise<void>): Promise<void> {
    const record = started.created ? this.record(caller, action, { kind: 'run', id: started.runId }, details) : Promise.resolve();
    if (mode.stream === 'true') {
      await Promise.all([record, answer()]);
      return;
    }
    await record;
    await answer();
  }

  async record(caller: Caller, action: string, target: AuditRecord['target'], details: Record<string, unknown> = {}): Promise<void> {
    await this.signals.record(caller.namespace, await this.actors.of(caller), action, target, details);
  }
}
