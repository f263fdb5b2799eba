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

  async record(caller: Caller, action: string, target: AuditRecord['target'], details: Record<string, unknown> = {}): Promise<void> {
    await this.signals.record(caller.namespace, await this.actors.of(caller), action, target, details);
  }
}
