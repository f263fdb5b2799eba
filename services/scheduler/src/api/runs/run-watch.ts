import type { LifecycleEvent } from '@weft/contracts';
import { isTerminalRunStatus, type RunState } from '@weft/core';
import type { RunStore } from '../../ports/run-store.port';
import { eventSeq, type RunEventsHub } from './run-events.hub';

export interface FollowHandlers {
  /** The run as it is when following starts. */
  snapshot(state: RunState): void;
  /** Each lifecycle event after the snapshot, in order. */
  event(event: LifecycleEvent): void;
}

export interface RunWatchOptions {
  /**
   * How often the database is asked as well, in case an event never arrives (a broker
   * that lost it, a hub still reading history). @default 2000
   */
  pollMs?: number;
}

/**
 * Waits for runs through the event hub, with the database as the referee: a snapshot
 * first, then only events newer than it (by seq), and a periodic read that ends the
 * wait even if the run's last event is never delivered.
 */
export class RunWatch {
  private readonly pollMs: number;

  constructor(
    private readonly hub: RunEventsHub,
    private readonly store: Pick<RunStore, 'getRun'>,
    options: RunWatchOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 2000;
  }

  /** The run's final state, or its state when `timeoutMs` passed first (or the signal fired). Undefined for an unknown run. */
  async waitForEnd(runId: string, timeoutMs: number, signal?: AbortSignal): Promise<RunState | undefined> {
    return this.follow(runId, { snapshot: () => undefined, event: () => undefined }, { timeoutMs, signal });
  }

  /**
   * Calls `snapshot` once, then `event` for each newer event, until the run ends, the
   * time runs out or `signal` fires. Resolves with the last state read.
   */
  async follow(runId: string, handlers: FollowHandlers, limits: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunState | undefined> {
    const buffered: LifecycleEvent[] = [];
    let live: ((event: LifecycleEvent) => void) | undefined;
    let wake: (() => void) | undefined;
    let ended = false;
    const stop = this.hub.watch(runId, (event) => {
      if (live) live(event);
      else buffered.push(event);
    });
    let deadline: NodeJS.Timeout | undefined;
    let pollTimer: NodeJS.Timeout | undefined;
    try {
      let state = await this.store.getRun(runId);
      if (!state) return undefined;
      handlers.snapshot(state);
      if (isTerminalRunStatus(state.status)) return state;
      // Events of transitions up to the snapshot's seq are in it; later ones may come twice (redelivery).
      const snapshotSeq = state.seq;
      const delivered = new Set<string>();
      const finished = new Promise<void>((resolve) => {
        wake = resolve;
      });
      live = (event) => {
        const seq = eventSeq(event);
        if (ended || (seq !== undefined && seq <= snapshotSeq) || delivered.has(event.eventId)) return;
        delivered.add(event.eventId);
        handlers.event(event);
        if (event.type.startsWith('run.') && isTerminalRunStatus(event.status as RunState['status'])) wake?.();
      };
      for (const event of buffered.splice(0)) live(event);
      if (limits.timeoutMs !== undefined) deadline = setTimeout(() => wake?.(), limits.timeoutMs);
      limits.signal?.addEventListener('abort', () => wake?.(), { once: true });
      if (limits.signal?.aborted) wake?.();
      const poll = (): void => {
        pollTimer = setTimeout(() => {
          void this.store.getRun(runId).then(
            (now) => {
              if (now && isTerminalRunStatus(now.status)) wake?.();
              else if (!ended) poll();
            },
            () => !ended && poll(),
          );
        }, this.pollMs);
      };
      poll();
      await finished;
      ended = true;
      state = (await this.store.getRun(runId)) ?? state;
      return state;
    } finally {
      ended = true;
      stop();
      clearTimeout(deadline);
      clearTimeout(pollTimer);
    }
  }
}
