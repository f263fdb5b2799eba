import type { Io } from './io';

export interface InterruptGuard {
  /** The run now exists: cancel it at once if Ctrl-C came before. */
  started(runId: string): void;
  dispose(): void;
}

/**
 * Ctrl-C while a run is followed: the first cancels the run (once it has an id), the
 * second quits at once with 130.
 */
export function cancelOnInterrupt(io: Io, signals: NodeJS.EventEmitter, cancel: (runId: string) => void): InterruptGuard {
  let runId: string | undefined;
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.err('canceling the run (Ctrl-C again to quit at once)…');
    if (runId) cancel(runId);
  };
  signals.on('SIGINT', onSigint);
  return {
    started(id) {
      runId = id;
      if (interrupts > 0) cancel(id);
    },
    dispose() {
      signals.off('SIGINT', onSigint);
    },
  };
}
