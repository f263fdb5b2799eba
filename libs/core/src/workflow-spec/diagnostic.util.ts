/** One problem found in a workflow file, pointing at the place to fix. */
export interface Diagnostic {
  file: string;
  /** 1-based; 0 when the spec did not come from a file (SDK-built specs). */
  line: number;
  /** 1-based; 0 together with line. */
  col: number;
  /** Where in the spec, e.g. `steps[2].needs[0]`; empty for the whole document. */
  path: string;
  /** Stable, machine-readable: one of DiagnosticCode for those raised here. */
  code: string;
  message: string;
  /** How to fix it, when there is more to say than the message. */
  hint?: string;
  severity: 'error' | 'warning';
  /** The id of the step `path` starts in (`steps[1]` -> `check`), so people read `steps.check.if`. */
  step?: string;
}

export const DiagnosticCode = {
  YamlSyntax: 'YAML_SYNTAX',
  YamlWarning: 'YAML_WARNING',
  UnknownField: 'UNKNOWN_FIELD',
  MissingField: 'MISSING_FIELD',
  InvalidType: 'INVALID_TYPE',
  InvalidValue: 'INVALID_VALUE',
  InvalidFormat: 'INVALID_FORMAT',
  OutOfRange: 'OUT_OF_RANGE',
  InvalidKey: 'INVALID_KEY',
  InvalidSpec: 'INVALID_SPEC',
  DuplicateStepId: 'DUPLICATE_STEP_ID',
  UnknownNeed: 'UNKNOWN_NEED',
  SelfNeed: 'SELF_NEED',
  DuplicateNeed: 'DUPLICATE_NEED',
  Cycle: 'CYCLE',
  TemplateSyntax: 'TEMPLATE_SYNTAX',
  CelSyntax: 'CEL_SYNTAX',
  CelType: 'CEL_TYPE',
  ConditionNotBool: 'CONDITION_NOT_BOOL',
  NotSingleExpression: 'NOT_SINGLE_EXPRESSION',
  DynamicReference: 'DYNAMIC_REFERENCE',
  UnknownStepRef: 'UNKNOWN_STEP_REF',
  UnknownStepField: 'UNKNOWN_STEP_FIELD',
  NotUpstreamRef: 'NOT_UPSTREAM_REF',
  SelfRef: 'SELF_REF',
  UnknownInputRef: 'UNKNOWN_INPUT_REF',
  TransformExpr: 'TRANSFORM_EXPR',
  InvalidDuration: 'INVALID_DURATION',
  ZeroTimeout: 'ZERO_TIMEOUT',
  InputDefaultType: 'INPUT_DEFAULT_TYPE',
  RetryIntervals: 'RETRY_INTERVALS',
  InputMissing: 'INPUT_MISSING',
  InputUnknown: 'INPUT_UNKNOWN',
  InputType: 'INPUT_TYPE',
  InvalidSchedule: 'INVALID_SCHEDULE',
  DuplicateTriggerId: 'DUPLICATE_TRIGGER_ID',
  TriggerField: 'TRIGGER_FIELD',
  /** More steps than the deployment allows (WEFT_MAX_STEPS); checked before the rest of the file is read. */
  TooManySteps: 'TOO_MANY_STEPS',
  /** A `workflow` step runs its own workflow with no `if` to stop: every run would start another, without end. */
  UnboundedRecursion: 'UNBOUNDED_RECURSION',
} as const;
export type DiagnosticCode = (typeof DiagnosticCode)[keyof typeof DiagnosticCode];

export type SpecPath = readonly (string | number)[];

/**
 * Finds where a spec path was written. `offset` is a position inside a string value
 * (e.g. the start of a CEL subexpression); locators that cannot map it return the value's start.
 */
export type Locate = (path: SpecPath, offset?: number) => { line: number; col: number } | undefined;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `['steps', 2, 'needs', 0]` -> `steps[2].needs[0]`; keys that are not identifiers are quoted. */
export function formatPath(path: SpecPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (IDENTIFIER.test(part)) out += out.length === 0 ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** `flow.yaml:12:9 error steps[2].needs[0]: unknown step "buidl" (did you mean "build"?)`. The hint is not included. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  const head = where.length > 0 ? `${where} ${d.severity}` : d.severity;
  const path = readablePath(d);
  return path.length > 0 ? `${head} ${path}: ${d.message}` : `${head}: ${d.message}`;
}

/** `steps[1].if` as `steps.check.if` when the step's id is known (ids are identifiers). */
export function readablePath(d: Pick<Diagnostic, 'path' | 'step'>): string {
  return d.step !== undefined ? d.path.replace(/^steps\[\d+\]/, `steps.${d.step}`) : d.path;
}

/**
 * Names the step of every diagnostic whose path starts at `steps[N]`, from the parsed
 * document (`data.steps[N].id`, when it is a usable id). The path itself stays by index:
 * editors and the console locate by it.
 */
export function nameSteps(diagnostics: Diagnostic[], data: unknown): Diagnostic[] {
  const steps = typeof data === 'object' && data !== null && 'steps' in data && Array.isArray(data.steps) ? (data.steps as unknown[]) : [];
  const ids = steps.map((step) => (typeof step === 'object' && step !== null && 'id' in step && typeof step.id === 'string' && IDENTIFIER.test(step.id) ? step.id : undefined));
  for (const d of diagnostics) {
    const index = /^steps\[(\d+)\]/.exec(d.path)?.[1];
    const id = index === undefined ? undefined : ids[Number(index)];
    // A repeated id would name two steps: those keep their index.
    if (id !== undefined && ids.indexOf(id) === ids.lastIndexOf(id)) d.step = id;
  }
  return diagnostics;
}

/** True when any diagnostic is an error (warnings do not block a workflow). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Diagnostics in reading order: by line, then column; unpositioned ones keep their order at the end. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => (d.line > 0 ? d.line : Number.MAX_SAFE_INTEGER);
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => key(a.d) - key(b.d) || a.d.col - b.d.col || a.i - b.i)
    .map(({ d }) => d);
}

/** Builds diagnostics for one file with an optional locator; unlocated ones get line 0. */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    private readonly file: string,
    readonly locate?: Locate,
  ) {}

  add(
    path: SpecPath,
    code: DiagnosticCode,
    message: string,
    options: { hint?: string; severity?: 'error' | 'warning'; offset?: number; at?: { line: number; col: number } } = {},
  ): void {
    const at = options.at ?? this.locate?.(path, options.offset) ?? { line: 0, col: 0 };
    const d: Diagnostic = { file: this.file, line: at.line, col: at.col, path: formatPath(path), code, message, severity: options.severity ?? 'error' };
    if (options.hint !== undefined) d.hint = options.hint;
    this.diagnostics.push(d);
  }
}
