import { isBlobRef } from '@weft/contracts';
import type { RunState, WorkflowSpec } from '@weft/core';
import { MemoryBlobStore } from '@weft/db';
import { defineAction, silentLogger } from '@weft/worker';
import type { MemoryRunStore } from '../persistence/memory-run.store';
import type { Scheduler } from '../scheduler';
import { BlobSweepUseCase } from './blob-sweep.usecase';
import { runFinished } from '../testing/run-finished.util';
import { memoryShell, startedForEachTest } from '../testing/started-for-each-test.util';

/**
 * Issue 12 item 4 in memory: run inputs and run outputs above the inline threshold are kept by
 * reference (each blob written once, before the commit that names it), expressions read the values,
 * and run outputs may exceed the message bound up to the largest stored output.
 */
const INLINE = 1_024;
const MAX_PAYLOAD = 10_000;
let store: MemoryRunStore;
let blobs: MemoryBlobStore;
let puts: string[];
let scheduler: Scheduler;

startedForEachTest(async () => {
  blobs = new MemoryBlobStore();
  puts = [];
  const put = blobs.put.bind(blobs);
  blobs.put = async (namespace, bytes) => {
    const ref = await put(namespace, bytes);
    puts.push(ref.$weftBlob);
    return ref;
  };
  const shell = memoryShell({ maxPayloadBytes: MAX_PAYLOAD, blobs, inlinePayloadBytes: INLINE, maxOutputBytes: 1024 * 1024 }, [measure], {
    blobs: { store: blobs, inlinePayloadBytes: INLINE, maxOutputBytes: 1024 * 1024 },
  });
  ({ store, scheduler } = shell);
  return shell;
});

/** Says what it was given: the length of each input field's JSON. */
const measure = defineAction<Record<string, unknown>>({ name: 'measure', handler: (input) => Object.fromEntries(Object.entries(input).map(([k, v]) => [k, JSON.stringify(v).length])) });

const ended = (runId: string): Promise<RunState> => runFinished(store, runId);

const spec: WorkflowSpec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'run-payloads',
  inputs: { text: { type: 'string' } },
  steps: [{ id: 'len', action: 'transform', with: { expr: 'size(inputs.text)' } }],
  // Three copies of the input: over the message bound (10,000), under the largest stored output.
  outputs: { a: '${{ inputs.text }}', b: '${{ inputs.text }}', c: '${{ inputs.text }}', len: '${{ steps.len.output }}' },
};

it('keeps large inputs and outputs by reference, each blob written once, and expressions read the values', async () => {
  const text = 'é'.repeat(4_000);
  const { runId } = await scheduler.startRun({ idempotencyKey: 'k1', workflow: spec.name, spec, inputs: { text } });
  const run = await ended(runId);
  expect({ status: run.status, error: run.error }).toEqual({ status: 'completed', error: undefined });
  expect(run.steps.len.output).toBe(4_000);
  expect(isBlobRef(run.inputs)).toBe(true);
  expect(isBlobRef(run.outputs)).toBe(true);
  const inputsRef = run.inputs as unknown as { $weftBlob: string };
  const outputsRef = run.outputs as unknown as { $weftBlob: string };
  expect(JSON.parse(Buffer.from((await blobs.get(inputsRef.$weftBlob)) ?? []).toString('utf8'))).toEqual({ text });
  expect(JSON.parse(Buffer.from((await blobs.get(outputsRef.$weftBlob)) ?? []).toString('utf8'))).toEqual({ a: text, b: text, c: text, len: 4_000 });
  // Written once each: the decision that made the outputs was decided again after the write, not written twice.
  expect(puts.sort()).toEqual([inputsRef.$weftBlob, outputsRef.$weftBlob].sort());
});

it('sends dispatch fields too large for a message by reference: a run input passed on whole and a value built from it', async () => {
  const fields: WorkflowSpec = {
    apiVersion: 'weft/v1',
    kind: 'Workflow',
    name: 'dispatch-fields',
    inputs: { text: { type: 'string' } },
    steps: [{ id: 'm', action: 'measure', with: { whole: '${{ inputs.text }}', built: '${{ inputs.text + inputs.text }}', small: 'x' } }],
  };
  const text = 'q'.repeat(12_000);
  const { runId } = await scheduler.startRun({ idempotencyKey: 'k4', workflow: fields.name, spec: fields, inputs: { text } });
  const run = await ended(runId);
  expect({ status: run.status, error: run.error }).toEqual({ status: 'completed', error: undefined });
  // The handler saw the values, not references.
  expect(run.steps.m.output).toEqual({ whole: 12_002, built: 24_002, small: 3 });
  // Each large field was written once (the run's inputs too), before the dispatch that names it.
  expect(puts).toHaveLength(3);
  expect(new Set(puts).size).toBe(3);
});

it('keeps small inputs and outputs inline', async () => {
  const { runId } = await scheduler.startRun({ idempotencyKey: 'k2', workflow: spec.name, spec, inputs: { text: 'hi' } });
  const run = await ended(runId);
  expect(run.inputs).toEqual({ text: 'hi' });
  expect(run.outputs).toEqual({ a: 'hi', b: 'hi', c: 'hi', len: 2 });
  expect(puts).toEqual([]);
});

it('refuses a run request whose inputs are shaped like a reference (only a parent scheduler sends one)', async () => {
  const forged = { $weftBlob: 'a'.repeat(64), size: 10 } as unknown as Record<string, unknown>;
  await expect(scheduler.startRun({ idempotencyKey: 'k3', workflow: spec.name, spec, inputs: forged })).rejects.toThrow(/RESERVED_INPUT_KEY/);
});

it('the sweep walks the old blobs in bounded steps to the end of the cursor, and not at all with a grace of 0', async () => {
  const seen: (string | undefined)[] = [];
  const blobsLeft = Array.from({ length: 450 }, (_, i) => `b${String(i).padStart(3, '0')}`);
  const sweep = new BlobSweepUseCase(
    {
      sweep: (_grace, batch, after) => {
        seen.push(after?.id);
        const from = after === undefined ? 0 : blobsLeft.indexOf(after.id) + 1;
        const window = blobsLeft.slice(from, from + batch);
        const last = window[window.length - 1];
        // Every other blob is unnamed.
        const removed = window.filter((_, i) => i % 2 === 0);
        return Promise.resolve({ removed, next: window.length < batch ? undefined : { createdAt: 't', id: last } });
      },
      batch: 200,
    },
    silentLogger,
  );
  expect(await sweep.execute()).toEqual({ blobs: 225 });
  expect(seen).toEqual([undefined, 'b199', 'b399']);
  const off = new BlobSweepUseCase({ sweep: () => Promise.reject(new Error('never called')), graceMs: 0 }, silentLogger);
  expect(await off.execute()).toEqual({ blobs: 0 });
});
