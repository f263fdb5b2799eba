import fc from 'fast-check';
import { seen, simulate, specArb } from '../testing';
import type { WorkflowSpec } from '../workflow-spec/spec.schema';

/**
 * Random DAGs (specArb) played to the end by the simulator (testing/run-simulator.util.ts),
 * which checks every invariant on every decision.
 */

const retryOnce = { maxAttempts: 1, backoff: 'fixed', initialInterval: '500ms', maxInterval: '3s', jitter: false } as const;
/**
 * Found by CI (seed -1685191682): s5's completion opens its review, frees the window for s4, whose
 * input fails and fails the run fast, which cancels the review in the same decision. Opening and
 * closing one review in one command list is right (the shells apply commands in order).
 */
const reviewOpenedAndCanceledInOneDecision: WorkflowSpec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'test-flow',
  maxStepsInFlight: 1,
  outputs: { first: '${{ steps.s0.status }}' },
  steps: [
    { id: 's0', action: 'work', retry: retryOnce },
    { id: 's1', action: 'sleep', retry: retryOnce, with: { duration: '2s' } },
    { id: 's2', action: 'work', retry: retryOnce },
    { id: 's3', action: 'sleep', retry: retryOnce, with: { duration: '2s' } },
    { id: 's4', action: 'work', retry: retryOnce, needs: ['s3'], with: { v: '${{ steps.s3.output.v * 2 }}', note: 'from ${{ run.id }}' } },
    { id: 's5', action: 'work', retry: retryOnce, review: { title: 'check ${{ output.v }}', assignees: ['a'] } },
    { id: 's6', action: 'work', retry: retryOnce },
  ],
} as WorkflowSpec;

describe('decide over random DAGs and random worker behaviour', () => {
  it('keeps every invariant', () => {
    fc.assert(
      fc.property(specArb, fc.integer(), (spec, seed) => {
        simulate(spec, seed);
      }),
      { numRuns: 300, examples: [[reviewOpenedAndCanceledInOneDecision, 2147479522]] },
    );
    for (const [what, count] of Object.entries(seen)) expect([what, count > 0]).toEqual([what, true]);
  });
});
