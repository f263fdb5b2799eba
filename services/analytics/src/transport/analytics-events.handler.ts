import type { Bus } from '@weft/bus';
import { isDataException } from '@weft/db';
import { type LifecycleConsumerOptions, LifecycleEventsHandler, type ServiceLogger, silentServiceLogger } from '@weft/platform';
import { AnalyticsError } from '../domain/analytics.errors';
import type { RecordAnalyticsEventUseCase } from '../domain/record-event.usecase';

export type AnalyticsLogger = ServiceLogger;

/** Durable group, its own (the journal has another): every event reaches both (default `analytics`). */
export type AnalyticsConsumerOptions = LifecycleConsumerOptions;

/** Consumes `weft.event.>` into the aggregates: acks once applied (or known). */
export class AnalyticsEventsHandler extends LifecycleEventsHandler {
  constructor(bus: Bus, record: RecordAnalyticsEventUseCase, options: AnalyticsConsumerOptions = {}, log: AnalyticsLogger = silentServiceLogger) {
    super(bus, { name: 'analytics', lag: 'analytics', past: 'counted', gerund: 'counting', apply: (event) => record.execute(event), isTerminal }, options, log);
  }
}

/** Never worth retrying: an event that cannot be counted, or data PostgreSQL refuses (SQLSTATE class 22). */
export function isTerminal(error: unknown): boolean {
  if (error instanceof AnalyticsError) return error.code === 'INVALID_EVENT';
  return isDataException(error);
}
