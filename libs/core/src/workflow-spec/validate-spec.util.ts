import { findCycles, formatCycle, type Reachability, reachability } from '../dag';
import { validateWorkflowConcurrency } from './validate-concurrency.util';
import { validateTriggers } from './validate-triggers.util';
import {
  checkCondition,
  checkExpression,
  checkSingleExpression,
  checkTemplate,
  type ExprCheck,
  type ExprMemo,
  hasTemplate,
  parseTemplate,
  STEP_RESULT_FIELDS,
  TemplateSyntaxError,
  unwrapExpression,
} from '../expr';
import { type BoundVariable, boundExpression, boundPrefix } from './bound-expression.util';
import { type Diagnostic, DiagnosticCode, DiagnosticSink, type Locate, type SpecPath } from './diagnostic.util';
import { DurationError, parseDuration } from './duration.util';
import { describeValue, matchesInputType, typeLabel } from './input-type.util';
import { type RetryPolicy, SPEC_DEFAULTS, type StepSpec, type WorkflowSpec } from './spec.schema';
import { reportExprProblems, walkStrings } from './spec-strings.util';
import { closestMatch } from './suggest.util';
import { isWaitActionName } from './wait-actions.schema';
import { type StepChecks, validateReviews, validateWaits } from './validate-waits.util';

/** Typo suggestions scan every id; past this many a broken spec would make validation quadratic. */
const SUGGESTION_BUDGET = 200;

/**
 * The checks a schema cannot express, run on a spec that has the right shape: the DAG
 * (duplicate ids, unknown or self needs, cycles), expressions (syntax, CEL types, what
 * they reference and whether that is upstream), durations, retry intervals, input
 * defaults. Reports every problem. Without `locate` (specs built in code) diagnostics
 * carry paths but line 0.
 */
export function validateSpec(spec: WorkflowSpec, locate?: Locate, file = ''): Diagnostic[] {
  return new SpecValidator(spec, new DiagnosticSink(file, locate)).run();
}

class SpecValidator implements StepChecks {
  private readonly firstIndex = new Map<string, number>();
  private suggestions = 0;
  private reach: Reachability | undefined;
  private readonly inputNames: Set<string>;
  private readonly memo: ExprMemo = new Map();

  constructor(
    private readonly spec: WorkflowSpec,
    readonly sink: DiagnosticSink,
  ) {
    this.inputNames = new Set(Object.keys(spec.inputs ?? {}));
  }

  run(): Diagnostic[] {
    this.checkIds();
    this.checkNeeds();
    this.checkCycles();
    this.checkDurations();
    this.checkInputDefaults();
    this.checkExpressions();
    validateTriggers(this.spec.triggers, this.inputNames, this.sink);
    validateWorkflowConcurrency(this.spec, this.sink);
    validateWaits(this.spec, this);
    validateReviews(this.spec, this);
    return this.sink.diagnostics;
  }

  private checkIds(): void {
    this.spec.steps.forEach((step, i) => {
      const first = this.firstIndex.get(step.id);
      if (first === undefined) this.firstIndex.set(step.id, i);
      else this.sink.add(['steps', i, 'id'], DiagnosticCode.DuplicateStepId, `duplicate step id "${step.id}" (first declared at steps[${first}])`, { hint: 'step ids must be unique' });
    });
  }

  private checkNeeds(): void {
    this.spec.steps.forEach((step, i) => {
      const seen = new Set<string>();
      (step.needs ?? []).forEach((need, k) => {
        const path = ['steps', i, 'needs', k];
        if (need === step.id) {
          this.sink.add(path, DiagnosticCode.SelfNeed, `step "${step.id}" needs itself`, { hint: 'remove it from its own needs' });
        } else if (!this.firstIndex.has(need)) {
          this.sink.add(path, DiagnosticCode.UnknownNeed, `unknown step "${need}"${this.suggest(need, this.firstIndex.keys())}`);
        } else if (seen.has(need)) {
          this.sink.add(path, DiagnosticCode.DuplicateNeed, `"${need}" is listed twice in needs`, { severity: 'warning' });
        }
        seen.add(need);
      });
    });
  }

  private checkCycles(): void {
    for (const cycle of findCycles(this.spec.steps, { selfLoops: false })) {
      const first = cycle[0];
      const last = cycle[cycle.length - 1];
      const i = this.firstIndex.get(first) ?? 0;
      // Point at the need that closes the cycle: the first step needs the last one.
      const k = (this.spec.steps[i].needs ?? []).indexOf(last);
      this.sink.add(['steps', i, 'needs', Math.max(0, k)], DiagnosticCode.Cycle, `dependency cycle: ${formatCycle(cycle)}`, {
        hint: 'each step needs the one before it, so none can start; remove one of these needs',
      });
    }
  }

  private checkDurations(): void {
    const { spec } = this;
    this.duration(['timeout'], spec.timeout, 'remove it for no run timeout');
    this.duration(['defaults', 'timeout'], spec.defaults?.timeout, `remove it for the default (${SPEC_DEFAULTS.stepTimeout})`);
    this.retry(['defaults', 'retry'], spec.defaults?.retry);
    spec.steps.forEach((step, i) => {
      this.duration(['steps', i, 'timeout'], step.timeout, 'remove it to use defaults.timeout');
      this.retry(['steps', i, 'retry'], step.retry);
    });
  }

  /** Milliseconds of a duration field; reports it and returns undefined when it is unusable. `zeroHint` marks timeouts. */
  duration(path: SpecPath, text: string | undefined, zeroHint?: string): number | undefined {
    if (text === undefined) return undefined;
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (error) {
      if (!(error instanceof DurationError)) throw error;
      this.sink.add(path, DiagnosticCode.InvalidDuration, error.message);
      return undefined;
    }
    if (ms === 0 && zeroHint !== undefined) {
      this.sink.add(path, DiagnosticCode.ZeroTimeout, `a timeout of ${text} would end every attempt at once; it must be greater than zero`, { hint: zeroHint });
      return undefined;
    }
    return ms;
  }

  private retry(path: SpecPath, retry: RetryPolicy | undefined): void {
    if (!retry) return;
    const initial = this.duration([...path, 'initialInterval'], retry.initialInterval);
    const max = this.duration([...path, 'maxInterval'], retry.maxInterval);
    if (initial !== undefined && max !== undefined && initial > max) {
      this.sink.add([...path, 'initialInterval'], DiagnosticCode.RetryIntervals, `initialInterval (${retry.initialInterval}) is longer than maxInterval (${retry.maxInterval})`, {
        hint: 'the first delay cannot exceed the cap on every delay; raise maxInterval or lower initialInterval',
      });
    } else if (initial !== undefined && max === undefined && initial > parseDuration(SPEC_DEFAULTS.retry.maxInterval)) {
      this.sink.add([...path, 'initialInterval'], DiagnosticCode.RetryIntervals, `initialInterval (${retry.initialInterval}) is longer than the default maxInterval (${SPEC_DEFAULTS.retry.maxInterval}), which caps every delay`, {
        severity: 'warning',
        hint: 'set maxInterval as well',
      });
    }
  }

  private checkInputDefaults(): void {
    for (const [name, decl] of Object.entries(this.spec.inputs ?? {})) {
      if (decl.default === undefined || matchesInputType(decl.default, decl.type)) continue;
      this.sink.add(['inputs', name, 'default'], DiagnosticCode.InputDefaultType, `default of input "${name}" must be ${typeLabel(decl.type)}, got ${describeValue(decl.default)}`);
    }
  }

  private checkExpressions(): void {
    this.spec.steps.forEach((step, i) => {
      const transform = step.action === 'transform';
      const waitEvent = step.action === 'wait.event';
      if (step.with !== undefined) {
        for (const [key, value] of Object.entries(step.with)) {
          // The engine reads a transform's with.expr as one expression, not as a template.
          if (transform && key === 'expr') continue;
          // A wait's match is CEL over `event`, checked by checkWaits.
          if (waitEvent && key === 'match') continue;
          // A forEach step's `with` also sees `item` and `index`.
          if (step.forEach !== undefined) walkStrings(value, ['steps', i, 'with', key], (text, path) => this.checkBound('item', text, path, step, false));
          else walkStrings(value, ['steps', i, 'with', key], (text, path) => this.report(checkTemplate(text, this.memo), path, step));
        }
      }
      if (step.if !== undefined) {
        this.report(checkCondition(step.if, this.memo), ['steps', i, 'if'], step);
        this.checkConditionInput(step.if, ['steps', i, 'if']);
      }
      if (transform && step.forEach === undefined) this.checkTransform(step, i);
      this.checkForEach(step, i);
    });
    if (this.spec.outputs !== undefined) {
      for (const [key, value] of Object.entries(this.spec.outputs)) {
        walkStrings(value, ['outputs', key], (text, path) => this.report(checkTemplate(text, this.memo), path, undefined));
      }
    }
  }

  /**
   * Expressions that also see `variable` (a review's `output`, a wait's `event`): a condition
   * (bare or one ${{ }}) or a text with ${{ }} templates. Offsets point into the written text.
   */
  checkBound(variable: BoundVariable, text: string, path: SpecPath, step: StepSpec, condition: boolean): void {
    const pieces: { source: string; offset: number }[] = [];
    try {
      if (condition) {
        const source = unwrapExpression(text);
        pieces.push({ source, offset: Math.max(0, text.indexOf(source)) });
      } else if (hasTemplate(text)) {
        for (const part of parseTemplate(text)) if (part.kind === 'expr') pieces.push({ source: part.source, offset: part.offset });
      }
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      this.report(condition ? checkSingleExpression(text, this.memo) : checkTemplate(text, this.memo), path, step);
      return;
    }
    const prefix = boundPrefix(variable).length;
    for (const { source, offset } of pieces) {
      const bound = boundExpression(variable, source);
      const raw = checkExpression(bound, 0, this.memo);
      const shift = (at: number): number => Math.max(0, at - prefix) + offset;
      const check: ExprCheck = {
        problems: raw.problems.map((p) => ({ ...p, message: p.message.split(bound).join(source), offset: shift(p.offset) })),
        references: raw.references.map((r) => ({ ...r, offset: shift(r.offset) })),
      };
      if (condition && raw.type !== undefined && raw.type !== 'bool' && raw.type !== 'dyn') {
        check.problems.push({ code: 'CONDITION_NOT_BOOL', severity: 'error', message: `the condition must be a bool, but it is ${raw.type}`, offset });
      }
      this.report(check, path, step);
    }
  }

  /** forEach: its list expression, and what a fan-out cannot do (yet): wait or be reviewed per item. */
  private checkForEach(step: StepSpec, i: number): void {
    if (typeof step.concurrency === 'object' && isWaitActionName(step.action)) {
      this.sink.add(['steps', i, 'concurrency'], DiagnosticCode.InvalidValue, `a concurrency limit does not apply to ${step.action}: it holds no executor`, { hint: 'limit the steps that do the work' });
    }
    if (step.forEach === undefined) {
      if (typeof step.concurrency === 'number') {
        this.sink.add(['steps', i, 'concurrency'], DiagnosticCode.InvalidValue, 'concurrency (a number) limits the items of a forEach step; this step has no forEach', { hint: 'add forEach, or remove concurrency' });
      }
      return;
    }
    this.report(checkSingleExpression(step.forEach, this.memo), ['steps', i, 'forEach'], step);
    if (isWaitActionName(step.action)) {
      this.sink.add(['steps', i, 'action'], DiagnosticCode.InvalidValue, `${step.action} cannot run per item of a forEach`, { hint: 'wait in a step before or after the fan-out' });
    }
    if (step.review !== undefined) {
      this.sink.add(['steps', i, 'review'], DiagnosticCode.InvalidValue, 'a forEach step cannot be reviewed per item', { hint: 'review the collected output in a step that needs this one' });
    }
  }

  private checkTransform(step: StepSpec, i: number): void {
    const expr = step.with?.['expr'];
    if (expr === undefined) {
      this.sink.add(step.with ? ['steps', i, 'with'] : ['steps', i], DiagnosticCode.TransformExpr, 'action transform needs with.expr, a CEL expression', {
        hint: 'e.g. with: { expr: "steps.fetch.output.items.map(i, i.id)" }',
      });
    } else if (typeof expr !== 'string') {
      this.sink.add(['steps', i, 'with', 'expr'], DiagnosticCode.TransformExpr, `with.expr must be a CEL expression (a string), got ${describeValue(expr)}`);
    } else {
      this.report(checkSingleExpression(expr, this.memo), ['steps', i, 'with', 'expr'], step);
    }
  }

  /**
   * `if: ${{ inputs.flag }}` where flag is declared as another type than boolean: CEL sees
   * inputs as dyn, but the declaration says what the value will be (a string "false" is no bool).
   */
  private checkConditionInput(text: string, path: SpecPath): void {
    const name = /^\s*(?:\$\{\{\s*)?inputs\.([A-Za-z_][A-Za-z0-9_]*)\s*(?:\}\}\s*)?$/.exec(text)?.[1];
    const type = name === undefined ? undefined : this.spec.inputs?.[name]?.type;
    if (name === undefined || type === undefined || type === 'boolean') return;
    this.sink.add(path, DiagnosticCode.ConditionNotBool, `the condition must be a bool, but input "${name}" is declared as ${type}`, {
      hint: `compare it (e.g. inputs.${name} == ...), or declare it type: boolean`,
    });
  }

  /** Problems and references of one checked string; `step` is the reader (none for run outputs). */
  private report(check: ExprCheck, path: SpecPath, step: StepSpec | undefined): void {
    reportExprProblems(this.sink, check, path);
    for (const ref of check.references) {
      const at = { offset: ref.offset };
      if (ref.scope === 'inputs') {
        if (!this.inputNames.has(ref.name)) {
          this.sink.add(path, DiagnosticCode.UnknownInputRef, `unknown input "${ref.name}"${this.suggest(ref.name, this.inputNames)}`, {
            ...at,
            hint: this.inputNames.size > 0 ? `declared inputs: ${[...this.inputNames].join(', ')}` : `declare it under inputs, e.g. inputs: { ${ref.name}: { type: string } }`,
          });
        }
        continue;
      }
      if (!this.firstIndex.has(ref.name)) {
        this.sink.add(path, DiagnosticCode.UnknownStepRef, `unknown step "${ref.name}" in steps.${ref.name}${this.suggest(ref.name, this.firstIndex.keys())}`, at);
        continue;
      }
      if (ref.field !== undefined && !(STEP_RESULT_FIELDS as readonly string[]).includes(ref.field)) {
        this.sink.add(path, DiagnosticCode.UnknownStepField, `steps.${ref.name} has no field "${ref.field}"${this.suggest(ref.field, STEP_RESULT_FIELDS)}`, {
          ...at,
          hint: `a step exposes ${STEP_RESULT_FIELDS.join(', ')}`,
        });
      }
      if (step === undefined) continue;
      if (ref.name === step.id) {
        this.sink.add(path, DiagnosticCode.SelfRef, `step "${step.id}" reads its own result (steps.${step.id})`, {
          ...at,
          hint: 'a result exists only once the step has run; read it in a step that needs this one',
        });
      } else if (!this.reachability().isUpstream(ref.name, step.id)) {
        const downstream = this.reachability().isUpstream(step.id, ref.name);
        this.sink.add(path, DiagnosticCode.NotUpstreamRef, `steps.${ref.name} is read by step "${step.id}", which does not need it`, {
          ...at,
          hint: downstream
            ? `"${ref.name}" runs after "${step.id}" (it needs it), so its result cannot exist yet`
            : `add "${ref.name}" to the needs of "${step.id}" (directly or through a step it needs)`,
        });
      }
    }
  }

  private reachability(): Reachability {
    this.reach ??= reachability(this.spec.steps);
    return this.reach;
  }

  private suggest(name: string, candidates: Iterable<string>): string {
    if (this.suggestions >= SUGGESTION_BUDGET) return '';
    this.suggestions++;
    const match = closestMatch(name, candidates);
    return match === undefined ? '' : ` (did you mean "${match}"?)`;
  }
}
