import { evaluateCondition, evaluateExpression, type ExprScope, renderValue, unwrapExpression, type WorkflowSpec } from '@weft/core';

/**
 * Test support: runs a spec in-process with the built-in actions' outputs (as in
 * @weft/worker), so specs can assert that their expressions and result passing
 * evaluate as intended. Not the engine: no timers (sleep does not wait), no
 * durability. Like the engine, a false `if` or a skipped need skips the step.
 * `fail` counts attempts against the step's retry.maxAttempts.
 */
export interface DryRunResult {
  status: 'completed' | 'failed';
  steps: Record<string, { status: 'completed' | 'failed' | 'skipped'; output?: unknown; attempts: number }>;
  outputs: Record<string, unknown>;
  logs: string[];
}

export type HttpHandler = (request: Record<string, unknown>) => { status: number; headers?: Record<string, string>; body?: unknown };

export function dryRun(spec: WorkflowSpec, inputs: Record<string, unknown> = {}, http?: HttpHandler): DryRunResult {
  const resolved: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(spec.inputs ?? {})) {
    if (name in inputs) resolved[name] = inputs[name];
    else if (decl.default !== undefined) resolved[name] = decl.default;
    else if (decl.required) throw new Error(`input "${name}" is required`);
  }
  const scope: ExprScope = { inputs: resolved, steps: {}, run: { id: 'dry-run', workflow: spec.name } };
  const result: DryRunResult = { status: 'completed', steps: {}, outputs: {}, logs: [] };
  const pending = [...spec.steps];
  while (pending.length > 0) {
    const index = pending.findIndex((s) => (s.needs ?? []).every((n) => n in result.steps));
    if (index < 0) throw new Error(`no runnable step among ${pending.map((s) => s.id).join(', ')}`);
    const [step] = pending.splice(index, 1);
    const needs = (step.needs ?? []).map((n) => result.steps[n]);
    if (needs.some((n) => n.status === 'failed')) return { ...result, status: 'failed' };
    const skipped = needs.some((n) => n.status === 'skipped') || (step.if !== undefined && !evaluateCondition(step.if, scope));
    if (skipped) {
      result.steps[step.id] = { status: 'skipped', attempts: 0 };
      scope.steps[step.id] = { status: 'skipped' };
      continue;
    }
    const maxAttempts = step.retry?.maxAttempts ?? spec.defaults?.retry?.maxAttempts ?? 1;
    let outcome: { ok: boolean; output?: unknown } = { ok: false };
    let attempt = 0;
    while (!outcome.ok && attempt < maxAttempts) {
      attempt++;
      outcome = runAction(step.action, renderValue(step.with ?? {}, scope) as Record<string, unknown>, step.with ?? {}, attempt, scope, result.logs, http);
    }
    result.steps[step.id] = { status: outcome.ok ? 'completed' : 'failed', output: outcome.output, attempts: attempt };
    scope.steps[step.id] = { status: outcome.ok ? 'completed' : 'failed', output: outcome.output, attempts: attempt };
    if (!outcome.ok) return { ...result, status: 'failed' };
  }
  result.outputs = renderValue(spec.outputs ?? {}, scope) as Record<string, unknown>;
  return result;
}

function runAction(
  action: string,
  input: Record<string, unknown>,
  raw: Record<string, unknown>,
  attempt: number,
  scope: ExprScope,
  logs: string[],
  http: HttpHandler | undefined,
): { ok: boolean; output?: unknown } {
  switch (action) {
    case 'noop':
      return { ok: true, output: input };
    case 'sleep':
      return { ok: true };
    case 'log':
      logs.push(typeof input.message === 'string' ? input.message : JSON.stringify(input.message));
      return { ok: true, output: { logged: true } };
    case 'fail':
      return typeof input.untilAttempt === 'number' && attempt >= input.untilAttempt ? { ok: true, output: { attempt } } : { ok: false };
    case 'transform':
      // `expr` is bare CEL, read from the spec as written (not rendered first).
      return { ok: true, output: evaluateExpression(unwrapExpression(String(raw.expr)), scope) };
    case 'http.request': {
      if (!http) throw new Error('dry run has no http handler');
      const response = http(input);
      return { ok: response.status < 400, output: { headers: {}, body: null, ...response } };
    }
    default:
      throw new Error(`dry run does not know action "${action}"`);
  }
}
