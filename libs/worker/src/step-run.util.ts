import { BusError } from '@weft/bus';
import type { ActionContext, ActionDefinition } from './action.types';

// How the worker runs a handler and retries a result: small helpers of worker.ts.

/** A publish that failed for a reason that may pass (unreachable, timed out, no quorum), not one that never will (too large, unserialisable, closed). */
export function mayPassOnRetry(error: unknown): boolean {
  return !(error instanceof BusError) || error.code === 'BROKER_ERROR';
}

/** Resolves after `ms`, or at once when `signal` fires. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Runs the handler, turning a synchronous throw into a rejection. */
export function invoke(definition: ActionDefinition, input: Record<string, unknown>, ctx: ActionContext): Promise<unknown> {
  return new Promise((resolve) => resolve(definition.handler(input, ctx)));
}

/** Settles with the work, or rejects with the signal's reason as soon as it fires (the handler is abandoned). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
