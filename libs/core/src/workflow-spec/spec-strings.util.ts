import { type ExprCheck, type ExprProblemCode } from '../expr';
import { DiagnosticCode, type DiagnosticSink, type SpecPath } from './diagnostic.util';
import { isPlainObject } from './input-type.util';

// Shared by the workflow and trigger validators: the expression checker's problems as diagnostics,
// and a walk over every string of a nested value (step `with:`, outputs, trigger inputs).

const PROBLEM_CODES: Record<ExprProblemCode, DiagnosticCode> = {
  TEMPLATE_SYNTAX: DiagnosticCode.TemplateSyntax,
  CEL_SYNTAX: DiagnosticCode.CelSyntax,
  CEL_TYPE: DiagnosticCode.CelType,
  CONDITION_NOT_BOOL: DiagnosticCode.ConditionNotBool,
  NOT_SINGLE_EXPRESSION: DiagnosticCode.NotSingleExpression,
  DYNAMIC_REFERENCE: DiagnosticCode.DynamicReference,
};

/** Adds each problem of one checked string to `sink` at `path`. */
export function reportExprProblems(sink: DiagnosticSink, check: ExprCheck, path: SpecPath): void {
  for (const p of check.problems) sink.add(path, PROBLEM_CODES[p.code], p.message, { severity: p.severity, offset: p.offset });
}

/** Calls `visit` with every string inside `value` and its path. */
export function walkStrings(value: unknown, path: SpecPath, visit: (text: string, path: SpecPath) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, k) => walkStrings(item, [...path, k], visit));
  else if (isPlainObject(value)) for (const [key, item] of Object.entries(value)) walkStrings(item, [...path, key], visit);
}
