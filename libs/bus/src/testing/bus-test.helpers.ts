import { type LifecycleEvent, type StepDispatch } from '@weft/contracts';
import { type Bus, type DeadLetter } from '../bus.port';

// Messages and waits for the bus contract suite and implementation-specific bus tests.

export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

export function dispatch(stepId: string, queue = 'io'): StepDispatch {
  return { runId: 'r1', workflow: 'wf', stepId, attempt: 1, token: 'tok', action: 'noop', input: { n: 1 }, queue, timeoutMs: 1000 };
}

export function event(eventId: string, type: LifecycleEvent['type']): LifecycleEvent {
  return { eventId, type, runId: 'r1', workflow: 'wf', version: 'v1', status: 'running', at: '2025-01-01T00:00:00.000Z' };
}

export function result(stepId: string) {
  return { outcome: 'completed' as const, runId: 'r1', stepId, attempt: 1, token: 'tok', workerId: 'w1', output: { ok: true } };
}

export function heartbeat(stepId: string) {
  return { runId: 'r1', stepId, attempt: 1, token: 'tok', workerId: 'w1', phase: 'progress' as const };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects if `promise` does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, what = 'condition', ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bounded polling: resolves once `predicate` holds, fails after `ms`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await pause(10);
  }
}

export async function waitForDeadLetters(bus: Bus, count: number): Promise<DeadLetter[]> {
  let dead: DeadLetter[] = [];
  await waitFor(async () => {
    dead = await bus.deadLetters();
    return dead.length >= count;
  }, `${count} dead letter(s)`);
  return dead;
}

/** A rendezvous for `n` parties: each call's promise resolves once all `n` have arrived. */
export function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  const all = deferred<void>();
  return () => {
    arrived++;
    if (arrived >= n) all.resolve();
    return all.promise;
  };
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
