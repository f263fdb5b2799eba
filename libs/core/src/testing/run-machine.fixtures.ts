import type { StepSpec, WorkflowSpec } from '../workflow-spec/spec.schema';
import { workflow } from './run-driver.util';

/** Shared by the run machine's themed specs (run.machine*.spec.ts). */

/** A retryable step error. */
export const boom = { code: 'BOOM', message: 'it broke' };
/** A step error that is never retried. */
export const fatal = { code: 'FATAL', message: 'never again', retryable: false };

/** a -> (b, c) -> d, with outputs passed downstream. */
export const diamond = (): StepSpec[] => [
  { id: 'a', action: 'noop' },
  { id: 'b', needs: ['a'], action: 'work', with: { n: '${{ steps.a.output.x + 1 }}' } },
  { id: 'c', needs: ['a'], action: 'work', with: { label: 'c of ${{ inputs.name }}' } },
  { id: 'd', needs: ['b', 'c'], action: 'work', with: { sum: '${{ steps.b.output.v + steps.c.output.v }}' } },
];

/** Workflow `billing`: `call` (a charge with `call`'s flow control, retried once after 1 s), then `after`; input `customer`. */
export const billing = (call: Partial<StepSpec>): WorkflowSpec =>
  workflow(
    [
      { id: 'call', action: 'charge', ...call, retry: { maxAttempts: 2, initialInterval: '1s' } },
      { id: 'after', needs: ['call'], action: 'noop' },
    ],
    { name: 'billing', inputs: { customer: { type: 'string' } } },
  );
