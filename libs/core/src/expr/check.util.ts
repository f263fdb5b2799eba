import type { ASTNode } from '@marcbachmann/cel-js';
import { compileRegex, EXPRESSION_LIMITS, InvalidRegexError } from './budget';
import { celEnvironment, type ExprDialect } from './cel';
import { hasTemplate, parseTemplate, TemplateSyntaxError } from './template';

/**
 * Static checks of expressions, used when a workflow is registered: syntax, CEL types,
 * and which `steps.<id>` / `inputs.<name>` each expression reads. Nothing is evaluated.
 */

export type ExprProblemCode = 'TEMPLATE_SYNTAX' | 'CEL_SYNTAX' | 'CEL_TYPE' | 'CONDITION_NOT_BOOL' | 'NOT_SINGLE_EXPRESSION' | 'DYNAMIC_REFERENCE';

export interface ExprProblem {
  code: ExprProblemCode;
  message: string;
  severity: 'error' | 'warning';
  /** Offset in the checked text (the whole string, `${{ }}` included). */
  offset: number;
}

/** `steps.build.output` -> { scope: 'steps', name: 'build', field: 'output' }. */
export interface ExprReference {
  scope: 'steps' | 'inputs';
  name: string;
  /** The member read on a step (`output`, `status`, ...), when written literally. */
  field?: string;
  /** Offset of the reference in the checked text. */
  offset: number;
}

export interface ExprCheck {
  problems: ExprProblem[];
  references: ExprReference[];
  /** The CEL type of a bare expression or condition when it checks (`dyn` when unknown). */
  type?: string;
}

/** What `steps.<id>` holds in an expression (see ExprScope). */
export const STEP_RESULT_FIELDS = ['output', 'status', 'attempts', 'error'] as const;

/** Macros that bind a loop variable as their first argument (`list.map(x, x * 2)`). */
const BINDING_MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const SCOPES = new Set(['steps', 'inputs']);

/**
 * Results by expression source, at offset 0. Workflows repeat expressions (`inputs.x` in
 * many steps); a caller checking a whole workflow passes one memo to all its checks
 * (one memo per dialect: the same source checks differently in each).
 */
export type ExprMemo = Map<string, ExprCheck>;

/** Checks one bare CEL expression; `offset` is where it starts inside the text being reported on. */
export function checkExpression(source: string, offset = 0, memo?: ExprMemo, dialect: ExprDialect = 'workflow'): ExprCheck {
  let cached = memo?.get(source);
  if (!cached) {
    cached = checkUncached(source, dialect);
    memo?.set(source, cached);
  }
  if (offset === 0 && !memo) return cached;
  return {
    problems: cached.problems.map((p) => ({ ...p, offset: p.offset + offset })),
    references: cached.references.map((r) => ({ ...r, offset: r.offset + offset })),
    ...(cached.type === undefined ? {} : { type: cached.type }),
  };
}

function checkUncached(source: string, dialect: ExprDialect): ExprCheck {
  const problems: ExprProblem[] = [];
  let parsed: ReturnType<ReturnType<typeof celEnvironment>['parse']>;
  try {
    parsed = celEnvironment(dialect).parse(source);
  } catch (error) {
    problems.push({ code: 'CEL_SYNTAX', severity: 'error', message: `cannot parse ${quote(source)}: ${summaryOf(error)}`, offset: startOf(error) });
    return { problems, references: [] };
  }
  const references: ExprReference[] = [];
  collectReferences(parsed.ast, new Set(), 0, references, problems);
  checkCost(parsed.ast, 0, problems);
  let type: string | undefined;
  try {
    const result = parsed.check();
    if (result.valid) type = result.type ?? 'dyn';
    else problems.push({ code: 'CEL_TYPE', severity: 'error', message: `type error in ${quote(source)}: ${summaryOf(result.error)}`, offset: startOf(result.error) });
  } catch (error) {
    problems.push({ code: 'CEL_TYPE', severity: 'error', message: `type error in ${quote(source)}: ${summaryOf(error)}`, offset: startOf(error) });
  }
  return type === undefined ? { problems, references } : { problems, references, type };
}

/** Checks every `${{ }}` of a string; text without templates has nothing to check. */
export function checkTemplate(text: string, memo?: ExprMemo, dialect: ExprDialect = 'workflow'): ExprCheck {
  if (!hasTemplate(text)) return { problems: [], references: [] };
  let parts: ReturnType<typeof parseTemplate>;
  try {
    parts = parseTemplate(text);
  } catch (error) {
    return { problems: [templateProblem(error)], references: [] };
  }
  const out: ExprCheck = { problems: [], references: [] };
  const exprs = parts.filter((p) => p.kind === 'expr');
  for (const part of exprs) {
    const result = checkExpression(part.source, part.offset, memo, dialect);
    out.problems.push(...result.problems);
    out.references.push(...result.references);
    // A string that is one expression (surrounding blanks aside) keeps that expression's type.
    if (exprs.length === 1 && parts.every((p) => p.kind === 'expr' || p.text.trim() === '')) out.type = result.type;
  }
  return out;
}

/**
 * A field holding one expression, bare or wrapped in one `${{ }}` (how `if` and a
 * transform's `with.expr` are read).
 */
export function checkSingleExpression(text: string, memo?: ExprMemo, dialect: ExprDialect = 'workflow'): ExprCheck {
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  // Read like unwrapExpression: only a leading `${{` makes it a template.
  if (!trimmed.startsWith('${{')) {
    const bare = checkExpression(trimmed, lead, memo, dialect);
    // `a && ${{ b }}`: CEL cannot parse `$`; say what the rule is instead.
    if (hasTemplate(trimmed) && bare.problems.some((p) => p.code === 'CEL_SYNTAX')) return notSingle(lead + trimmed.indexOf('${{'));
    return bare;
  }
  let parts: ReturnType<typeof parseTemplate>;
  try {
    parts = parseTemplate(trimmed);
  } catch (error) {
    const problem = templateProblem(error);
    return { problems: [{ ...problem, offset: problem.offset + lead }], references: [] };
  }
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only?.kind !== 'expr') return notSingle(lead);
  return checkExpression(only.source, lead + only.offset, memo, dialect);
}

function notSingle(offset: number): ExprCheck {
  return {
    problems: [{ code: 'NOT_SINGLE_EXPRESSION', severity: 'error', message: 'expected one expression: bare CEL, or one ${{ }} around all of it', offset }],
    references: [],
  };
}

/** An `if`: one expression that must be a bool when the checker can tell. */
export function checkCondition(text: string, memo?: ExprMemo, dialect: ExprDialect = 'workflow'): ExprCheck {
  const result = checkSingleExpression(text, memo, dialect);
  if (result.type !== undefined && result.type !== 'bool' && result.type !== 'dyn') {
    result.problems.push({
      code: 'CONDITION_NOT_BOOL',
      severity: 'error',
      message: `the condition must be a bool, but it is ${article(result.type)}`,
      offset: text.length - text.trimStart().length,
    });
  }
  return result;
}

/**
 * The `steps.<id>` and `inputs.<name>` an expression reads, honouring macro variables
 * that shadow them (`xs.map(steps, steps + 1)` reads no step).
 */
function collectReferences(node: ASTNode, bound: ReadonlySet<string>, base: number, out: ExprReference[], problems: ExprProblem[]): void {
  switch (node.op) {
    case 'value':
    case 'id':
      return;
    case '.':
    case '.?':
    case '[]':
    case '[?]': {
      const target = node.args[0];
      if (isMember(target) && scopeRoot(target.args[0], bound)) {
        // `steps.x.<field>`: read the step and which field of it.
        const ref = referenceAt(target, bound, base, problems);
        const field = memberName(node);
        if (ref) out.push(ref.scope === 'steps' && field !== undefined ? { ...ref, field } : ref);
        else if (isIndex(target)) collectReferences(target.args[1], bound, base, out, problems);
      } else if (scopeRoot(target, bound)) {
        const ref = referenceAt(node, bound, base, problems);
        if (ref) out.push(ref);
      } else {
        collectReferences(target, bound, base, out, problems);
      }
      if (isIndex(node)) collectReferences(node.args[1], bound, base, out, problems);
      return;
    }
    case 'call':
      for (const arg of node.args[1]) collectReferences(arg, bound, base, out, problems);
      return;
    case 'rcall': {
      const [name, receiver, args] = node.args;
      const variable = args[0]?.op === 'id' ? (args[0].args as string) : undefined;
      if (variable !== undefined && BINDING_MACROS.has(name)) {
        collectReferences(receiver, bound, base, out, problems);
        const inner = new Set(bound).add(variable);
        for (const arg of args.slice(1)) collectReferences(arg, inner, base, out, problems);
        return;
      }
      if (variable !== undefined && name === 'bind' && receiver.op === 'id' && receiver.args === 'cel' && args.length === 3) {
        collectReferences(args[1], bound, base, out, problems);
        collectReferences(args[2], new Set(bound).add(variable), base, out, problems);
        return;
      }
      collectReferences(receiver, bound, base, out, problems);
      for (const arg of args) collectReferences(arg, bound, base, out, problems);
      return;
    }
    case 'list':
      for (const item of node.args) collectReferences(item, bound, base, out, problems);
      return;
    case 'map':
      for (const [key, value] of node.args) {
        collectReferences(key, bound, base, out, problems);
        collectReferences(value, bound, base, out, problems);
      }
      return;
    case '?:':
      for (const arg of node.args) collectReferences(arg, bound, base, out, problems);
      return;
    case '!_':
    case '-_':
      collectReferences(node.args, bound, base, out, problems);
      return;
    default:
      // Binary operators, && and ||.
      collectReferences(node.args[0], bound, base, out, problems);
      collectReferences(node.args[1], bound, base, out, problems);
  }
}

/**
 * What is too expensive to run whatever the data (docs/spec.md, "Expression limits"): comprehensions
 * nested deeper than the limit, and `matches` patterns RE2 rejects. Reported like the parser's own
 * size limits, as CEL_SYNTAX.
 */
function checkCost(node: ASTNode, depth: number, problems: ExprProblem[]): void {
  switch (node.op) {
    case 'value':
    case 'id':
      return;
    case '.':
    case '.?':
      checkCost(node.args[0], depth, problems);
      return;
    case 'call':
      for (const arg of node.args[1]) checkCost(arg, depth, problems);
      return;
    case 'rcall': {
      const [name, receiver, args] = node.args;
      checkCost(receiver, depth, problems);
      const comprehension = BINDING_MACROS.has(name) && args[0]?.op === 'id';
      if (comprehension && depth + 1 > EXPRESSION_LIMITS.maxComprehensionDepth) {
        problems.push({
          code: 'CEL_SYNTAX',
          severity: 'error',
          message: `comprehensions nested more than ${EXPRESSION_LIMITS.maxComprehensionDepth} deep (${name} inside ${depth}) cost the product of their list sizes; flatten them or move the work into an action`,
          offset: node.start,
        });
        return;
      }
      const pattern = args[0];
      if (name === 'matches' && pattern?.op === 'value' && typeof pattern.args === 'string') {
        try {
          compileRegex(pattern.args);
        } catch (error) {
          if (!(error instanceof InvalidRegexError)) throw error;
          problems.push({ code: 'CEL_SYNTAX', severity: 'error', message: `${error.message} (matches uses RE2)`, offset: pattern.start });
        }
      }
      for (const arg of comprehension ? args.slice(1) : args) checkCost(arg, comprehension ? depth + 1 : depth, problems);
      return;
    }
    case 'list':
      for (const item of node.args) checkCost(item, depth, problems);
      return;
    case 'map':
      for (const [key, value] of node.args) {
        checkCost(key, depth, problems);
        checkCost(value, depth, problems);
      }
      return;
    case '?:':
      for (const arg of node.args) checkCost(arg, depth, problems);
      return;
    case '!_':
    case '-_':
      checkCost(node.args, depth, problems);
      return;
    default:
      // Binary operators, indexing, && and ||.
      checkCost(node.args[0], depth, problems);
      checkCost(node.args[1], depth, problems);
  }
}

/** `steps` or `inputs` when `node` is that (unshadowed) variable. */
function scopeRoot(node: ASTNode, bound: ReadonlySet<string>): 'steps' | 'inputs' | undefined {
  if (node.op !== 'id' || bound.has(node.args) || !SCOPES.has(node.args)) return undefined;
  return node.args === 'steps' ? 'steps' : 'inputs';
}

/** The reference `node` makes when it is `steps.x` / `inputs["x"]`; a computed name is reported. */
function referenceAt(node: ASTNode, bound: ReadonlySet<string>, base: number, problems: ExprProblem[]): ExprReference | undefined {
  if (node.op !== '.' && node.op !== '.?' && node.op !== '[]' && node.op !== '[?]') return undefined;
  const scope = scopeRoot(node.args[0], bound);
  if (scope === undefined) return undefined;
  const name = memberName(node);
  if (name === undefined) {
    problems.push({
      code: 'DYNAMIC_REFERENCE',
      severity: 'warning',
      message: `${scope}[...] with a computed name cannot be checked; write ${scope}.<name>`,
      offset: base + node.start,
    });
    return undefined;
  }
  return { scope, name, offset: base + node.start };
}

function memberName(node: ASTNode): string | undefined {
  if (node.op === '.' || node.op === '.?') return node.args[1];
  if ((node.op === '[]' || node.op === '[?]') && node.args[1].op === 'value' && typeof node.args[1].args === 'string') return node.args[1].args;
  return undefined;
}

function isMember(node: ASTNode): node is Extract<ASTNode, { op: '.' | '.?' | '[]' | '[?]' }> {
  return node.op === '.' || node.op === '.?' || node.op === '[]' || node.op === '[?]';
}

function isIndex(node: ASTNode): node is Extract<ASTNode, { op: '[]' | '[?]' }> {
  return node.op === '[]' || node.op === '[?]';
}

function templateProblem(error: unknown): ExprProblem {
  if (error instanceof TemplateSyntaxError) return { code: 'TEMPLATE_SYNTAX', severity: 'error', message: error.message, offset: error.offset };
  return { code: 'TEMPLATE_SYNTAX', severity: 'error', message: summaryOf(error), offset: 0 };
}

/** cel-js errors carry a one-line `summary` and a source `range`; their `message` adds ASCII art. */
function summaryOf(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const summary: unknown = Reflect.get(error, 'summary');
    if (typeof summary === 'string' && summary.length > 0) return summary;
    const message: unknown = Reflect.get(error, 'message');
    if (typeof message === 'string') return message.split('\n')[0] ?? '';
  }
  return String(error);
}

function startOf(error: unknown): number {
  if (error === null || typeof error !== 'object') return 0;
  const range: unknown = Reflect.get(error, 'range');
  if (range !== null && typeof range === 'object') {
    const start: unknown = Reflect.get(range, 'start');
    if (typeof start === 'number') return start;
  }
  return 0;
}

function quote(source: string): string {
  return JSON.stringify(source.length > 60 ? `${source.slice(0, 57)}...` : source);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
