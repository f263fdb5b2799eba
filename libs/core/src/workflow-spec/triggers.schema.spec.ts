import type { Diagnostic } from './diagnostic.util';
import { parseWorkflow } from './parse-workflow.util';
import { DURATION_PATTERN } from './spec.schema';
import { TRIGGER_DURATION_PATTERN } from './triggers.schema';

const brief = (d: Diagnostic) => `${d.severity} ${d.code} ${d.path}: ${d.message}`;
const yaml = (triggers: string, inputs = '') => `apiVersion: weft/v1
kind: Workflow
name: w
${inputs}steps:
  - id: a
    action: noop
triggers:
${triggers}`;
const problems = (triggers: string, inputs = '') => parseWorkflow(yaml(triggers, inputs), 'w.yaml').diagnostics.map(brief);

describe('triggers in the workflow spec', () => {
  it('accepts one trigger of each kind (the issue 14 example)', () => {
    const parsed = parseWorkflow(
      yaml(`  - id: nightly
    cron: "0 2 * * *"
    timezone: Europe/Berlin
    overlap: skip
    catchup: 1h
    inputs: { env: prod, scheduledAt: "\${{ trigger.scheduledAt }}" }
  - id: order-created
    subject: shop.orders.created
    filter: "\${{ event.data.total > 100 }}"
    dedupe: "\${{ event.data.id }}"
    inputs: { orderId: "\${{ event.data.id }}" }
  - id: signal
    event: order.created
  - id: github
    webhook:
      preset: github
      secret: { env: GITHUB_WEBHOOK_SECRET }
      tolerance: 5m
    filter: "\${{ event.headers['x-github-event'] == 'push' }}"
    inputs: { ref: "\${{ event.body.ref }}" }
  - id: new-tickets
    poll:
      url: "https://api.example.test/tickets?since=\${{ cursor }}"
      every: 30s
      headers: { Authorization: { env: TICKETS_TOKEN } }
      items: "\${{ response.body.items }}"
      key: "\${{ item.id }}"
      cursor: "\${{ response.body.next }}"
    inputs: { ticket: "\${{ item }}" }
`),
      'w.yaml',
    );
    expect(parsed.diagnostics.map(brief)).toEqual([]);
    expect(parsed.spec?.triggers?.map((t) => t.id)).toEqual(['nightly', 'order-created', 'signal', 'github', 'new-tickets']);
  });

  it('needs exactly one kind and refuses fields of another kind', () => {
    expect(problems('  - id: none\n')).toEqual([expect.stringContaining('a trigger needs one of cron, subject, event, webhook or poll')]);
    expect(problems('  - id: two\n    cron: "@daily"\n    subject: a.b\n')).toEqual([expect.stringContaining('exactly one of cron, subject, event, webhook or poll (this one has cron and subject)')]);
    expect(problems('  - id: x\n    subject: a.b\n    catchup: 1h\n')).toEqual(['error INVALID_SPEC triggers[0].catchup: catchup: applies to cron triggers, not to subject']);
  });

  it('checks schedules, time zones and durations', () => {
    expect(problems('  - id: a\n    cron: "61 * * * *"\n  - id: b\n    cron: "0 2 * * *"\n    timezone: Mars/Olympus\n  - id: c\n    cron: "@every 100ms"\n')).toEqual([
      expect.stringMatching(/^error INVALID_SCHEDULE triggers\[0\]\.cron: .*minute: 61/),
      expect.stringMatching(/^error INVALID_SCHEDULE triggers\[1\]\.timezone: .*unknown time zone "Mars\/Olympus"/),
      expect.stringMatching(/^error INVALID_SCHEDULE triggers\[2\]\.cron: .*shortest interval/),
    ]);
  });

  it('checks CEL in the trigger dialect: filters, dedupe keys, inputs, poll expressions', () => {
    const found = problems(`  - id: s
    subject: a.b
    filter: "\${{ event.data.total > }}"
    dedupe: "\${{ steps.a.output }}"
    inputs: { x: "\${{ event.data.id }}", y: "\${{ inputs.z }}" }
  - id: p
    poll: { url: "https://x.test", every: 1s, items: "\${{ response.body.items }}", key: "\${{ item.id + }}" }
`);
    expect(found).toEqual([
      expect.stringMatching(/^error CEL_SYNTAX triggers\[0\]\.filter: /),
      expect.stringMatching(/^error CEL_TYPE triggers\[0\]\.dedupe: .*Unknown variable: steps/),
      expect.stringMatching(/^error CEL_TYPE triggers\[0\]\.inputs\.y: .*Unknown variable: inputs/),
      expect.stringMatching(/^error CEL_SYNTAX triggers\[1\]\.poll\.key: /),
    ]);
  });

  it('refuses duplicate ids, literal secrets, hmac fields on other presets and unknown subjects', () => {
    expect(
      problems(`  - id: h
    webhook: { preset: github, secret: { env: S }, header: x-sig }
  - id: h
    webhook: { preset: stripe, secret: "plain" }
  - id: bad-subject
    subject: "a b"
`),
    ).toEqual([
      expect.stringContaining('triggers[1].webhook.secret'),
      expect.stringContaining('triggers[2].subject'),
    ]);
    expect(problems('  - id: h\n    webhook: { preset: github, secret: { env: S }, header: x-sig }\n  - id: h\n    event: e\n')).toEqual([
      'error TRIGGER_FIELD triggers[0].webhook.header: webhook.header applies to the hmac-sha256 preset only (github fixes its own headers)',
      'error DUPLICATE_TRIGGER_ID triggers[1].id: duplicate trigger id "h" (first declared at triggers[0])',
    ]);
  });

  it('warns about trigger inputs the workflow does not declare', () => {
    expect(problems('  - id: c\n    cron: "@daily"\n    inputs: { envv: prod }\n', 'inputs:\n  env: { type: string }\n')).toEqual([
      expect.stringMatching(/^warning INPUT_UNKNOWN triggers\[0\]\.inputs\.envv: trigger input "envv" is not declared/),
    ]);
  });

  it('keeps its duration pattern equal to the spec one', () => {
    expect(TRIGGER_DURATION_PATTERN).toBe(DURATION_PATTERN);
  });
});
