import { BusError, type InMemoryBus } from '@weft/bus';
import { TERMINAL_RUN_STATUSES, type RunState, type WorkflowSpec } from '@weft/core';
import type { Worker } from '@weft/worker';
import type { MemoryRunStore } from '../persistence/memory-run.store';
import type { Scheduler } from '../scheduler';
import { RunRejectedError } from './create-run.usecase';
import { waitFor } from '../testing/run-store.fixtures';
import { memoryShell, startedForEachTest } from '../testing/started-for-each-test.util';

/** Issue 12, item 3: no payload makes a run stay non-terminal; each unfit one fails its step (or run) with a code. */
const MAX = 10_000;
let bus: InMemoryBus;
let store: MemoryRunStore;
let scheduler: Scheduler;
let worker: Worker;

startedForEachTest(async () => {
  ({ bus, store, scheduler, worker } = memoryShell({ maxPayloadBytes: MAX }));
  return { bus, scheduler, worker };
});

const spec = (steps: WorkflowSpec['steps'], extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ apiVersion: 'weft/v1', kind: 'Workflow', name: 'payloads', steps, ...extra });

/** Polls `read` every 10 ms until it answers (bounded: 10 s). */
const until = <T>(read: () => Promise<T | undefined>, what: string): Promise<T> => waitFor(read, what, 10_000, 10);

const finished = (runId: string): Promise<RunState> =>
  until(async () => {
    const run = await store.getRun(runId);
    return run && TERMINAL_RUN_STATUSES.includes(run.status) ? run : undefined;
  }, `run ${runId} did not finish`);

let runs = 0;
const start = (workflow: WorkflowSpec, inputs: Record<string, unknown> = {}) =>
  scheduler.startRun({ idempotencyKey: `k${++runs}`, workflow: workflow.name, spec: workflow, inputs }).then((r) => r.runId);

describe('payload bounds (WEFT_MAX_PAYLOAD)', () => {
  it('fails a step whose dispatch input is over the bound with PAYLOAD_TOO_LARGE; the run moves on under onFailure: continue', async () => {
    const runId = await start(
      spec(
        [
          { id: 'big', action: 'transform', with: { expr: '[1, 2, 3, 4, 5, 6, 7, 8].map(i, inputs.text)' } },
          { id: 'after', needs: ['big'], action: 'noop' },
          { id: 'other', action: 'noop' },
        ],
        { onFailure: 'continue', inputs: { text: { type: 'string' } } },
      ),
      { text: 'x'.repeat(2_000) },
    );
    const run = await finished(runId);
    expect(run.status).toBe('partially_completed');
    expect(run.steps.big).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'PAYLOAD_TOO_LARGE', retryable: false } });
    expect(run.steps.big.error?.message).toContain('input of step big');
    expect(run.steps.after.status).toBe('skipped');
    expect(run.steps.other.status).toBe('completed');
    // Nothing unfit was put in the outbox: every row goes out (marks are debounced: wait for them).
    await until(async () => ((await store.stats()).outboxBacklog === 0 ? true : undefined), 'outbox not drained');
    expect(store.quarantinedOutbox()).toEqual([]);
  });

  it('fails a step whose dispatch input holds a NUL with UNSTORABLE_OUTPUT (fail-fast ends the run)', async () => {
    const runId = await start(spec([{ id: 'nul', action: 'transform', with: { expr: "'x\\u0000y'" } }, { id: 'next', needs: ['nul'], action: 'noop' }]));
    const run = await finished(runId);
    expect(run.status).toBe('failed');
    expect(run.steps.nul.error).toMatchObject({ code: 'UNSTORABLE_OUTPUT', retryable: false });
    expect(run.error?.code).toBe('UNSTORABLE_OUTPUT');
  });

  it('turns a result whose output is unstorable or too large into a failed attempt, never retried; error text is made storable', async () => {
    const held = spec([{ id: 'a', action: 'noop', queue: 'nobody' }, { id: 'b', action: 'noop', queue: 'nobody' }, { id: 'c', action: 'noop', queue: 'nobody' }], { onFailure: 'continue' });
    const runId = await start(held);
    const queued = await until(async () => {
      const run = await store.getRun(runId);
      return run && ['a', 'b', 'c'].every((id) => run.steps[id].status === 'queued') ? run : undefined;
    }, 'steps not queued');
    const result = (id: string, outcome: { output: unknown } | { error: { code: string; message: string; retryable: boolean } }) => {
      const step = queued.steps[id];
      return scheduler.apply(runId, (at) =>
        'output' in outcome
          ? { type: 'step.completed', at, stepId: id, attempt: step.attempt, token: step.token ?? '', output: outcome.output }
          : { type: 'step.failed', at, stepId: id, attempt: step.attempt, token: step.token ?? '', error: outcome.error },
      );
    };
    await result('a', { output: { o: 'x\u0000y' } });
    await result('b', { output: { rows: 'r'.repeat(MAX) } });
    await result('c', { error: { code: 'E\u0000', message: 'bad \ud800 text', retryable: false } });
    const run = await finished(runId);
    expect(run.status).toBe('failed');
    expect(run.steps.a).toMatchObject({ status: 'failed', error: { code: 'UNSTORABLE_OUTPUT', retryable: false } });
    expect(run.steps.a.error?.message).toContain('$.o');
    expect(run.steps.b).toMatchObject({ status: 'failed', error: { code: 'PAYLOAD_TOO_LARGE', retryable: false } });
    expect(run.steps.c.error).toEqual({ code: 'E\ufffd', message: 'bad \ufffd text', retryable: false });
  });

  it('refuses a run whose inputs hold a NUL or are over the bound', async () => {
    const one = spec([{ id: 'a', action: 'noop' }], { inputs: { s: { type: 'string' } } });
    await expect(start(one, { s: 'a\u0000' })).rejects.toBeInstanceOf(RunRejectedError);
    await expect(start(one, { s: 'a'.repeat(MAX + 1) })).rejects.toThrow(/PAYLOAD_TOO_LARGE/);
  });

  it('quarantines a dispatch the broker refuses for good and fails its step with DISPATCH_FAILED; the relay is not blocked', async () => {
    const publish = bus.publish.bind(bus);
    let refused = 0;
    bus.publish = (async (subject, payload, options) => {
      if (subject.startsWith('weft.step.dispatch.') && (payload as { stepId: string }).stepId === 'poison') {
        refused++;
        throw new BusError('PAYLOAD_TOO_LARGE', `publish to ${subject} failed: max_payload exceeded`);
      }
      return publish(subject, payload, options);
    }) as typeof bus.publish;
    const runId = await start(spec([{ id: 'poison', action: 'noop' }, { id: 'fine', action: 'noop' }], { onFailure: 'continue' }));
    const run = await finished(runId);
    expect(run.status).toBe('partially_completed');
    expect(run.steps.poison).toMatchObject({ status: 'failed', error: { code: 'DISPATCH_FAILED', retryable: false } });
    expect(run.steps.poison.error?.message).toContain('max_payload');
    expect(run.steps.fine.status).toBe('completed');
    expect(refused).toBe(1);
    const quarantined = store.quarantinedOutbox();
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0].row.msgId).toBe(`${runId}:poison:1`);
    expect(quarantined[0].reason).toMatch(/^PAYLOAD_TOO_LARGE: .*max_payload/);
    await until(async () => ((await store.stats()).outboxBacklog === 0 ? true : undefined), 'outbox not drained');
    expect(await store.stats()).toMatchObject({ outboxQuarantined: 1 });
    // A later run goes through: nothing waits behind the quarantined row.
    const next = await start(spec([{ id: 'fine', action: 'noop' }]));
    expect((await finished(next)).status).toBe('completed');
  });
});
