import { api, enc } from './client';
import type { Run } from '@weft/sdk';

/** One run's query, shared by the run page and the start-up prefetch (same key, same function). */
export const runQuery = (runId: string) => ({
  queryKey: ['run', runId] as const,
  queryFn: async ({ signal }: { signal: AbortSignal }): Promise<Run> => {
    const answer = await api<Run>(`/v1/runs/${enc(runId)}`, { signal });
    window.__weftMetrics = { ...window.__weftMetrics, runFetchedMs: performance.now() };
    return answer;
  },
});

declare global {
  interface Window {
    /** Render timings the console's own tests read (bench/results). */
    __weftMetrics?: Record<string, number | string>;
  }
}
