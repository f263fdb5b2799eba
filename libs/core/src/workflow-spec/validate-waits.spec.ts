import { parseWorkflow } from './parse-workflow.util';

const parse = (steps: string) => parseWorkflow(`apiVersion: weft/v1\nkind: Workflow\nname: w\ninputs:\n  id: { type: string }\nsteps:\n${steps}`, 'w.yaml');
const codes = (steps: string) => parse(steps).diagnostics.map((d) => `${d.path} ${d.code} ${d.severity}`);

describe('validation of waits and reviews', () => {
  it('accepts the issue\'s review and both wait actions', () => {
    const { diagnostics } = parse(`
  - id: extract
    action: extract
  - id: wait
    needs: [extract]
    action: wait.event
    with: { event: invoice.approved, key: "\${{ inputs.id }}", match: "event.data.total == steps.extract.output.total", timeout: 1h, lookback: 10s }
  - id: nap
    needs: [wait]
    action: sleep
    with: { duration: 5s }
  - id: check
    needs: [nap]
    action: noop
    review:
      when: "\${{ output.confidence < 0.8 }}"
      title: "Check invoice \${{ output.total }}"
      instructions: Compare with the PDF
      assignees: [finance]
      form: { type: object, required: [total], properties: { total: { type: number } } }
      deadline: 4h
      escalation: [{ after: 2h, assignees: [finance-leads] }]
      onDeadline: reject
`);
    expect(diagnostics).toEqual([]);
  });

  it('reports bad wait inputs: missing timeout, unknown fields, both duration and until, bad names and durations', () => {
    expect(codes(`
  - id: a
    action: wait.event
    with: { event: invoice.approved }
  - id: b
    action: sleep
    with: { duration: 5s, until: "2026-01-01T00:00:00Z" }
  - id: c
    action: sleep
    with: { duration: 5 minutes }
  - id: d
    action: wait.event
    with: { event: "Bad Name", timeout: 1m, lookback: 30d, extra: 1 }
  - id: e
    action: sleep
    with: { until: tomorrow }
`)).toEqual(expect.arrayContaining([
      'steps[0].with.timeout MISSING_FIELD error',
      'steps[1].with INVALID_VALUE error',
      'steps[2].with.duration INVALID_DURATION error',
      'steps[3].with UNKNOWN_FIELD error',
      'steps[4].with.until INVALID_FORMAT error',
    ]));
    expect(codes(`
  - id: d
    action: wait.event
    with: { event: "Bad Name", timeout: 1m, lookback: 30d }
`)).toEqual(['steps[0].with.event INVALID_FORMAT error', 'steps[0].with.lookback OUT_OF_RANGE error']);
  });

  it('type-checks a review\'s when over output and a wait\'s match over event', () => {
    expect(codes(`
  - id: a
    action: noop
    review: { when: "'always'" }
  - id: b
    action: wait.event
    with: { event: x, timeout: 1m, match: "event.data.x > " }
  - id: c
    action: wait.event
    with: { event: x, timeout: 1m, match: "\${{ event.data.x > 1 }}" }
  - id: d
    action: noop
    review: { when: "steps.d.output.x > 1", title: "\${{ outputs.x }}" }
`)).toEqual([
      'steps[0].review.when CONDITION_NOT_BOOL error',
      'steps[1].with.match CEL_SYNTAX error',
      'steps[2].with.match NOT_SINGLE_EXPRESSION error',
      'steps[3].review.when SELF_REF error',
      'steps[3].review.title CEL_TYPE error',
    ]);
  });

  it('warns about review settings that cannot take effect, and about retries on a wait', () => {
    expect(codes(`
  - id: a
    action: noop
    review: { onDeadline: escalate, escalation: [{ after: 2h, assignees: [x] }, { after: 1h, assignees: [y] }] }
  - id: b
    action: sleep
    with: { duration: 1s }
    retry: { maxAttempts: 3 }
`)).toEqual([
      'steps[0].review.onDeadline INVALID_VALUE warning',
      'steps[0].review.escalation[1].after INVALID_VALUE error',
      'steps[1].retry INVALID_VALUE warning',
    ]);
  });
});
