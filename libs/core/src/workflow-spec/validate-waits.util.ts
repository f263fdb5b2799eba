import { SIGNAL_NAME_PATTERN } from '@weft/contracts';
import { hasTemplate } from '../expr';
import { type BoundVariable } from './bound-expression.util';
import { DiagnosticCode, type DiagnosticSink, type SpecPath } from './diagnostic.util';
import { type StepSpec, type WorkflowSpec } from './spec.schema';
import { isWaitActionName, WAIT_ACTION_SCHEMAS } from './wait-actions.schema';

/** Longest lookback of a wait.event (older signals are past the default retention). */
const MAX_LOOKBACK_MS = 7 * 86_400_000;
const SIGNAL_NAME = new RegExp(SIGNAL_NAME_PATTERN);

/** What the wait and review checks use of the spec validator (validate-spec.util.ts). */
export interface StepChecks {
  readonly sink: DiagnosticSink;
  /** Milliseconds of a duration field, or undefined once reported unusable; `zeroHint` marks timeouts. */
  duration(path: SpecPath, text: string | undefined, zeroHint?: string): number | undefined;
  /** An expression that also sees `variable` (`event`, `output`): a condition, or a text with templates. */
  checkBound(variable: BoundVariable, text: string, path: SpecPath, step: StepSpec, condition: boolean): void;
}

/** `sleep` and `wait.event`: the shape of `with`, and the literal values the scheduler will read. */
export function validateWaits(spec: WorkflowSpec, checks: StepChecks): void {
  const { sink } = checks;
  spec.steps.forEach((step, i) => {
    if (!isWaitActionName(step.action)) return;
    const path = ['steps', i, 'with'];
    const parsed = WAIT_ACTION_SCHEMAS[step.action].safeParse(step.with ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const where = [...path, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
        const code = issue.code === 'unrecognized_keys' ? DiagnosticCode.UnknownField : issue.message.includes('undefined') ? DiagnosticCode.MissingField : DiagnosticCode.InvalidValue;
        const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
        sink.add(step.with ? where : ['steps', i], code, `${step.action}: ${issue.message}${keys}`);
      }
      return;
    }
    if (step.retry !== undefined) {
      sink.add(['steps', i, 'retry'], DiagnosticCode.InvalidValue, `retries do not apply to ${step.action}: a wait is never retried`, { severity: 'warning', hint: 'remove retry; onFailure still applies' });
    }
    const input = step.with ?? {};
    if (step.action === 'sleep') {
      if ((input['duration'] === undefined) === (input['until'] === undefined)) {
        sink.add(path, DiagnosticCode.InvalidValue, 'sleep needs exactly one of with.duration and with.until', { hint: 'e.g. with: { duration: 1h } or with: { until: "2026-12-24T18:00:00Z" }' });
      }
      literalDuration(checks, [...path, 'duration'], input['duration']);
      const until = input['until'];
      if (typeof until === 'string' && !hasTemplate(until) && !Number.isFinite(Date.parse(until))) {
        sink.add([...path, 'until'], DiagnosticCode.InvalidFormat, `"${until}" is not an ISO 8601 time`, { hint: 'e.g. 2026-12-24T18:00:00Z, or an expression yielding one' });
      }
      return;
    }
    if (step.action === 'workflow') {
      const child = input['workflow'];
      // Seen statically: the workflow runs itself on every run. An `if` can end the recursion (WEFT_MAX_RUN_DEPTH bounds it anyway).
      if (child === spec.name && step.if === undefined) {
        sink.add([...path, 'workflow'], DiagnosticCode.UnboundedRecursion, `step ${step.id} runs workflow ${child}, its own, on every run: the runs would nest without end`, {
          hint: 'give the step an `if` that ends the recursion (e.g. on an input that counts the depth)',
        });
      }
      return;
    }
    const event = input['event'];
    if (typeof event === 'string' && !hasTemplate(event) && !SIGNAL_NAME.test(event)) {
      sink.add([...path, 'event'], DiagnosticCode.InvalidFormat, `"${event}" is not a signal name: dotted lower-case words, e.g. invoice.approved`);
    }
    const timeout = literalDuration(checks, [...path, 'timeout'], input['timeout']);
    if (timeout === 0) sink.add([...path, 'timeout'], DiagnosticCode.ZeroTimeout, 'a wait with a timeout of 0 fails at once', { hint: 'give the signal time to arrive, e.g. 1h' });
    const lookback = literalDuration(checks, [...path, 'lookback'], input['lookback']);
    if (lookback !== undefined && lookback > MAX_LOOKBACK_MS) sink.add([...path, 'lookback'], DiagnosticCode.OutOfRange, 'lookback is at most 7d (signals are kept for 7 days by default)');
    const match = input['match'];
    if (typeof match === 'string') {
      if (hasTemplate(match)) {
        sink.add([...path, 'match'], DiagnosticCode.NotSingleExpression, 'match is bare CEL over `event`, not a ${{ }} template', { hint: 'e.g. match: "event.data.amount > 100"' });
      } else {
        checks.checkBound('event', match, [...path, 'match'], step, true);
      }
    }
  });
}

/** A literal duration field (templates are read at run time); its milliseconds when it parses. */
function literalDuration(checks: StepChecks, path: SpecPath, value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || hasTemplate(value)) return undefined;
  return checks.duration(path, value);
}

/** A review's deadline and escalation tiers in order, and the expressions that read the step's `output`. */
export function validateReviews(spec: WorkflowSpec, checks: StepChecks): void {
  const { sink } = checks;
  spec.steps.forEach((step, i) => {
    const review = step.review;
    if (review === undefined) return;
    const path = ['steps', i, 'review'];
    const deadline = checks.duration([...path, 'deadline'], review.deadline, 'remove it for a review without a deadline');
    let previous = -1;
    (review.escalation ?? []).forEach((tier, k) => {
      const after = checks.duration([...path, 'escalation', k, 'after'], tier.after);
      if (after === undefined) return;
      if (after <= previous) {
        sink.add([...path, 'escalation', k, 'after'], DiagnosticCode.InvalidValue, 'escalation tiers take over in order: each `after` must be later than the one before');
      }
      if (deadline !== undefined && after >= deadline) {
        sink.add([...path, 'escalation', k, 'after'], DiagnosticCode.InvalidValue, `this tier takes over at or after the deadline (${review.deadline ?? ''}), so it never does`, { severity: 'warning' });
      }
      previous = after;
    });
    if (review.onDeadline !== undefined && review.deadline === undefined) {
      sink.add([...path, 'onDeadline'], DiagnosticCode.InvalidValue, 'onDeadline has no effect without a deadline', { severity: 'warning', hint: 'add review.deadline, e.g. 4h' });
    }
    if (review.onDeadline === 'escalate' && (review.escalation ?? []).length === 0) {
      sink.add([...path, 'onDeadline'], DiagnosticCode.InvalidValue, 'onDeadline: escalate needs escalation tiers', { hint: 'add escalation: [{ after: 2h, assignees: [leads] }], or choose reject or continue' });
    }
    if (review.form !== undefined && typeof review.form['type'] !== 'string' && review.form['$ref'] === undefined && review.form['anyOf'] === undefined && review.form['oneOf'] === undefined) {
      sink.add([...path, 'form'], DiagnosticCode.InvalidValue, 'form is the JSON Schema of a correction; it needs a type', { severity: 'warning', hint: 'e.g. form: { type: object, required: [total], properties: { total: { type: number } } }' });
    }
    if (review.when !== undefined) checks.checkBound('output', review.when, [...path, 'when'], step, true);
    if (review.title !== undefined) checks.checkBound('output', review.title, [...path, 'title'], step, false);
    if (review.instructions !== undefined) checks.checkBound('output', review.instructions, [...path, 'instructions'], step, false);
  });
}
