import fc from 'fast-check';
import type { StepSpec, WorkflowSpec } from '../workflow-spec/spec.schema';
import { workflow } from './run-driver.util';

/**
 * Random workflow specs for the run machine's property spec: up to seven steps with random
 * needs, conditions, retry policies and failure policies; some steps sleep, wait for a
 * signal or are review gates.
 */

type StepDraft = {
  needs: number[];
  ifKind: 'none' | 'gt' | 'flag' | 'bad';
  k: number;
  ref: number;
  withRef: boolean;
  maxAttempts: number;
  backoff: 'fixed' | 'exponential';
  jitter: boolean;
  nonRetryable: boolean;
  onFailure: 'fail-fast' | 'continue' | undefined;
  timeout: '30s' | undefined;
  kind: 'work' | 'sleep' | 'wait' | 'review';
  reviewWhen: boolean;
  deadline: 'reject' | 'continue' | 'escalate' | undefined;
  escalation: boolean;
};

const stepDraft = (i: number): fc.Arbitrary<StepDraft> =>
  fc.record({
    needs: fc.subarray(Array.from({ length: i }, (_, j) => j)),
    ifKind: fc.constantFrom('none', 'none', 'none', 'none', 'none', 'gt', 'gt', 'flag', 'bad'),
    k: fc.integer({ min: 0, max: 9 }),
    ref: fc.nat(),
    withRef: fc.boolean(),
    maxAttempts: fc.integer({ min: 1, max: 3 }),
    backoff: fc.constantFrom('fixed', 'exponential'),
    jitter: fc.boolean(),
    nonRetryable: fc.boolean(),
    onFailure: fc.constantFrom(undefined, 'fail-fast', 'continue'),
    timeout: fc.constantFrom(undefined, '30s'),
    kind: fc.constantFrom('work', 'work', 'work', 'sleep', 'wait', 'review'),
    reviewWhen: fc.boolean(),
    deadline: fc.constantFrom(undefined, 'reject', 'continue', 'escalate'),
    escalation: fc.boolean(),
  });

function toStep(d: StepDraft, i: number): StepSpec {
  const needs = d.needs.map((j) => `s${j}`);
  const ref = needs.length > 0 ? needs[d.ref % needs.length] : undefined;
  const step: StepSpec = {
    id: `s${i}`,
    action: 'work',
    retry: {
      maxAttempts: d.maxAttempts,
      backoff: d.backoff,
      initialInterval: '500ms',
      maxInterval: '3s',
      jitter: d.jitter,
      ...(d.nonRetryable && { nonRetryable: ['BAD'] }),
    },
  };
  if (needs.length > 0) step.needs = needs;
  if (d.onFailure) step.onFailure = d.onFailure;
  if (d.timeout) step.timeout = d.timeout;
  // `if`s and inputs read upstream outputs, with int arithmetic across the JSON/CEL seam.
  if (d.ifKind === 'gt') step.if = ref ? `\${{ steps.${ref}.output.v + 1 > ${d.k} }}` : `inputs.k > ${d.k}`;
  if (d.ifKind === 'flag') step.if = 'inputs.flag';
  if (d.ifKind === 'bad') step.if = ref ? `steps.${ref}.output.missing > 1` : 'inputs.missing';
  if (d.withRef && ref) step.with = { v: `\${{ steps.${ref}.output.v * 2 }}`, note: 'from ${{ run.id }}' };
  // Waits keep their retry policy on purpose: it must not apply to them.
  if (d.kind === 'sleep') Object.assign(step, { action: 'sleep', with: { duration: '2s' } });
  if (d.kind === 'wait') Object.assign(step, { action: 'wait.event', with: { event: 'ping', key: `k${i}`, timeout: '1m', lookback: '1s' } });
  if (d.kind === 'review') {
    step.review = {
      ...(d.reviewWhen && { when: 'output.v > 3' }),
      title: 'check ${{ output.v }}',
      assignees: ['a'],
      ...(d.deadline !== undefined && { deadline: '1h', onDeadline: d.deadline }),
      ...(d.escalation && { escalation: [{ after: '10m', assignees: ['b'] }, { after: '20m', assignees: ['c'] }] }),
    };
  }
  return step;
}

export const specArb: fc.Arbitrary<WorkflowSpec> = fc
  .integer({ min: 1, max: 7 })
  .chain((n) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: n }, (_, i) => stepDraft(i))),
      fc.constantFrom(undefined, 'fail-fast', 'continue'),
      fc.boolean(),
      // A tight dispatch window (1-3 steps in flight) half of the time.
      fc.option(fc.integer({ min: 1, max: 3 }), { freq: 2 }),
    ),
  )
  .map(([drafts, onFailure, timed, window]) =>
    workflow(
      drafts.map((d, i) => toStep(d, i)),
      { ...(onFailure && { onFailure }), ...(timed && { timeout: '20m' }), ...(window !== null && { maxStepsInFlight: window }), outputs: { first: '${{ steps.s0.status }}' } },
    ),
  );
