import 'reflect-metadata';
import { runProjectionService, type RunServiceOptions, type ServiceHandle } from '@weft/platform';
import type { ServiceStart } from '@weft/telemetry';
import { analyticsRetentionOf } from './analytics.config';
import { AnalyticsModule } from './analytics.module';
import { openAnalyticsStore } from './persistence/sql-analytics.store';

/** The analytics process once tracing is up (see main.ts). */
export function runAnalytics(start: ServiceStart, options: RunServiceOptions = {}): Promise<ServiceHandle> {
  const retention = analyticsRetentionOf(start.config);
  return runProjectionService(
    start,
    {
      name: 'analytics',
      open: openAnalyticsStore,
      module: ({ bus, store, logger, auth }) => AnalyticsModule.forRoot({ bus, store, retention, logger, auth }),
    },
    options,
  );
}
