import { type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, enc } from '../api/client';
import { runQuery } from '../api/queries';
import { readSse } from '../api/sse';
import type { LifecycleEvent } from '@weft/contracts';
import type { RunHistory as History, Run, Step as StepView } from '@weft/sdk';

export const FINISHED = new Set(['completed', 'partially_completed', 'failed', 'canceled']);
const STEP_FINISHED = new Set(['completed', 'failed', 'skipped', 'canceled']);

function applyEvents(run: Run, events: LifecycleEvent[]): Run {
  const index = new Map(run.steps.map((s, i) => [s.id, i]));
  const steps: StepView[] = [...run.steps];
  let status = run.status;
  for (const e of events) {
    if (!e.stepId) {
      if (e.type.startsWith('run.')) status = e.status as Run['status'];
      continue;
    }
    const i = index.get(e.stepId);
    const prev = i === undefined ? undefined : steps[i];
    const next: StepView = prev
      ? { ...prev }
      : { id: e.stepId, status: 'pending', attempts: 0, startedAt: null, finishedAt: null, durationMs: null, output: undefined, error: null, reusedFrom: null };
    next.status = e.status;
    if (e.attempt) next.attempts = Math.max(next.attempts, e.attempt);
    if (e.type === 'step.started' && !next.startedAt) next.startedAt = e.at;
    if (STEP_FINISHED.has(e.status)) {
      next.finishedAt = e.at;
      if (e.durationMs !== undefined && e.durationMs !== null) next.durationMs = e.durationMs;
    }
    if (e.error) next.error = e.error;
    if (i === undefined) {
      index.set(next.id, steps.length);
      steps.push(next);
    } else steps[i] = next;
  }
  return { ...run, status, steps };
}

function refreshHistory(client: QueryClient, runId: string): void {
  void client.invalidateQueries({ queryKey: ['history', runId] });
}

/**
 * One run, kept current over its SSE stream (GET /v1/runs/{id}/stream): the snapshot
 * and the end replace the run; lifecycle events in between are applied once per frame,
 * so a 1,000-step burst costs a few renders, not a thousand.
 */
export function useLiveRun(runId: string): { run: ReturnType<typeof useQuery<Run>>; live: boolean; liveError: unknown } {
  const client = useQueryClient();
  const run = useQuery(runQuery(runId));
  const finished = run.data ? FINISHED.has(run.data.status) : true;
  const [live, setLive] = useState(false);
  const [liveError, setLiveError] = useState<unknown>(null);

  useEffect(() => {
    if (finished) return;
    const ac = new AbortController();
    let pending: LifecycleEvent[] = [];
    let frame = 0;
    let historyTimer: ReturnType<typeof setTimeout> | undefined;
    const flush = (): void => {
      frame = 0;
      const batch = pending;
      pending = [];
      const next = client.setQueryData<Run>(['run', runId], (old) => (old ? applyEvents(old, batch) : old));
      // A run-ended event stops this stream (the run counts as finished) before its `end`
      // message arrives: ask for the whole run once more, outputs included.
      if (next && FINISHED.has(next.status)) {
        void client.invalidateQueries({ queryKey: ['run', runId] });
        refreshHistory(client, runId);
      }
      historyTimer ??= setTimeout(() => {
        historyTimer = undefined;
        refreshHistory(client, runId);
      }, 1_000);
    };
    const follow = async (): Promise<void> => {
      setLive(true);
      setLiveError(null);
      for await (const m of readSse(`/v1/runs/${enc(runId)}/stream`, ac.signal)) {
        if (m.event === 'snapshot' || m.event === 'end') {
          if (frame) cancelAnimationFrame(frame);
          frame = 0;
          pending = [];
          client.setQueryData(['run', runId], JSON.parse(m.data) as Run);
          if (m.event === 'end') refreshHistory(client, runId);
        } else {
          pending.push(JSON.parse(m.data) as LifecycleEvent);
          if (!frame) frame = requestAnimationFrame(flush);
        }
      }
    };
    follow()
      .catch((error: unknown) => {
        if (!ac.signal.aborted) setLiveError(error);
      })
      // A stream this effect aborted ends after the next one started: it must not switch that one off.
      .finally(() => !ac.signal.aborted && setLive(false));
    return () => {
      ac.abort();
      setLive(false);
      if (frame) cancelAnimationFrame(frame);
      if (historyTimer) clearTimeout(historyTimer);
    };
  }, [runId, finished, client]);

  return { run, live, liveError };
}

export function useHistory(runId: string, enabled: boolean): ReturnType<typeof useQuery<History>> {
  return useQuery({ queryKey: ['history', runId], queryFn: ({ signal }) => api<History>(`/v1/runs/${enc(runId)}/history`, { signal }), enabled });
}
