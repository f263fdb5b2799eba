import type { RateRequested } from '@weft/contracts';
import type { RateLimitStore } from '../ports/rate-limit-store.port';
import type { ApplyEventUseCase } from './apply-event.usecase';

/**
 * Rate limits across runs (docs/flow-control.md): a permit request arrives from a run's outbox,
 * the store reserves the key's next start (GCRA, one atomic update shared by every replica), and
 * the run learns when it may start (rate.granted; the core waits on a timer until then).
 */
export class RateLimitsUseCase {
  constructor(
    private readonly rates: RateLimitStore,
    private readonly transitions: Pick<ApplyEventUseCase, 'apply'>,
  ) {}

  async requested(r: RateRequested): Promise<void> {
    const { startAt } = await this.rates.reserve(r);
    // Whole milliseconds, as every other time of a run: the SQL store's start is database time to
    // the microsecond, while timer rows (timerToJson) and decision times are whole ms.
    await this.transitions.apply(r.runId, (at) => ({ type: 'rate.granted', at, stepId: r.stepId, token: r.token, notBefore: Math.ceil(startAt) }));
  }
}
