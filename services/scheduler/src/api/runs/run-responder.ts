import type { ServerResponse } from 'node:http';
import { isTerminalRunStatus, parseDuration, type RunState } from '@weft/core';
import { sendJson } from '../http/http.util';
import { openSse } from '../http/sse.util';
import { runView } from '../views.util';
import type { RunAcceptedView } from '../api.schemas';
import type { RunStore } from '../../ports/run-store.port';
import type { RunLink, SqlRunDirectory } from '../../persistence/run-directory.repository';
import type { RunWatch } from './run-watch';
import type { StartedRun } from '../../usecases/start-run.usecase';

export interface ResponseMode {
  mode?: 'async' | 'sync';
  stream?: 'true' | 'false';
  wait?: string;
}

export const DEFAULT_SYNC_WAIT_MS = 60_000;
export const MAX_SYNC_WAIT_MS = 10 * 60_000;

/**
 * How a request that started a run is answered: 202 with the run's address (async), the
 * finished run (sync, or 202 when it outlasts the wait), or a stream of its events.
 * Waiting requests and open streams end when the server shuts down.
 */
export class RunResponder {
  private readonly shutdown = new AbortController();

  constructor(
    private readonly watch: RunWatch,
    private readonly store: Pick<RunStore, 'getRun'>,
    private readonly directory: Pick<SqlRunDirectory, 'links'>,
  ) {}

  /** Ends every wait and stream (before the HTTP server closes, which waits for them). */
  close(): void {
    this.shutdown.abort();
  }

  async started(response: ServerResponse, namespace: string, started: StartedRun, mode: ResponseMode): Promise<void> {
    const replayed: Record<string, string> = started.created ? {} : { 'Idempotent-Replayed': 'true' };
    if (mode.stream === 'true') return this.stream(response, namespace, started.runId);
    if (mode.mode === 'sync') {
      const waitMs = Math.min(mode.wait === undefined ? DEFAULT_SYNC_WAIT_MS : parseDuration(mode.wait), MAX_SYNC_WAIT_MS);
      const closed = this.untilClosed(response);
      try {
        const state = await this.watch.waitForEnd(started.runId, waitMs, closed.signal);
        if (state && isTerminalRunStatus(state.status)) {
          sendJson(response, 200, runView(state, namespace, await this.directory.links(state.runId)), { ...replayed, Location: runLocation(state.runId) });
          return;
        }
        if (state) return this.accepted(response, state, started, replayed);
      } finally {
        closed.release();
      }
    }
    const state = await this.store.getRun(started.runId);
    if (state) this.accepted(response, state, started, replayed);
  }

  /**
   * Server-Sent Events: `snapshot` (the run now), one unnamed event per lifecycle event,
   * then `end` (the finished run). Ends early when the client goes away.
   */
  async stream(response: ServerResponse, namespace: string, runId: string): Promise<void> {
    const link = await this.directory.links(runId);
    const closed = this.untilClosed(response);
    const sse = openSse(response);
    try {
      const final = await this.watch.follow(
        runId,
        { snapshot: (state) => sse.send(runView(state, namespace, link), 'snapshot'), event: (event) => sse.send(event, undefined, event.eventId) },
        { signal: closed.signal },
      );
      if (final && isTerminalRunStatus(final.status)) sse.send(runView(final, namespace, link), 'end');
    } finally {
      closed.release();
      sse.end();
    }
  }

  private accepted(response: ServerResponse, state: RunState, started: StartedRun, headers: Record<string, string>): void {
    const body: RunAcceptedView = { runId: state.runId, status: state.status, created: started.created, location: runLocation(state.runId) };
    sendJson(response, 202, body, { ...headers, Location: body.location });
  }

  /** A signal that fires when the client disconnects or the server shuts down. */
  private untilClosed(response: ServerResponse): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    // 'close' on the response: it ended, or the client went away before it did.
    response.once('close', abort);
    this.shutdown.signal.addEventListener('abort', abort, { once: true });
    if (this.shutdown.signal.aborted) abort();
    return {
      signal: controller.signal,
      release: () => {
        response.off('close', abort);
        this.shutdown.signal.removeEventListener('abort', abort);
      },
    };
  }
}

export const runLocation = (runId: string): string => `/v1/runs/${encodeURIComponent(runId)}`;

export type { RunLink };
