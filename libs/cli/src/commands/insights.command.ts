import { EXIT } from '../exit-codes';
import type { FetchLike } from '@weft/sdk';
import { renderInsights } from '../insights/insights.view';
import { openInsightsReader, withReader } from '../insights/readers.util';
import type { Io } from '../io';

export interface InsightsOptions {
  workflow?: string;
  /** ISO time or a duration back from now. @default 24h */
  since?: string;
  until?: string;
  /** Trend points in the moving average. @default 3 */
  window?: string;
  json?: boolean;
  api?: string;
  /** API key for --api (default: WEFT_API_KEY). */
  apiKey?: string;
}

/** `weft insights`: failure hotspots, duration trend, per-step figures; exit 0, 2 for bad flags. */
export function insightsCommand(options: InsightsOptions, io: Io, env: NodeJS.ProcessEnv = process.env, fetchImpl?: FetchLike): Promise<number> {
  return withReader(openInsightsReader, options, { io, env, fetch: fetchImpl }, async (reader) => {
    const summary = await reader.summary({
      ...(options.workflow !== undefined && { workflow: options.workflow }),
      since: options.since ?? '24h',
      ...(options.until !== undefined && { until: options.until }),
      ...(options.window !== undefined && { window: options.window }),
    });
    if (options.json) io.out(JSON.stringify(summary, null, 2));
    else for (const line of renderInsights(summary)) io.out(line);
    return EXIT.ok;
  });
}
