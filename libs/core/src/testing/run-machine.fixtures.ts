import type { StepSpec } from '../workflow-spec/spec.schema';

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
