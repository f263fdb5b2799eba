import { JITTER_RATIO, planRun, type PlannedStep, retryDelay, runTimeoutMs, WAIT_ACTIONS, type WorkflowSpec } from '@weft/core';

/** "A few seconds": longest a run kept in memory may last by its spec (a kill before its end loses it). */
export const QUICK_RUN_MS = 5_000;

/** Built-ins that run in the process and end at once: their timeout bounds nothing a run waits for. */
const INSTANT_ACTIONS = new Set(['noop', 'transform', 'log', 'fail']);

/** Child workflows looked up at most, and nested at most when checked (a folder of workflows is not walked whole). */
const MAX_CHILDREN = 50;

/** Child workflows by name, as `weft run` would run them (childWorkflowsOf); one missing cannot be found. */
export type ChildLookup = ReadonlyMap<string, WorkflowSpec>;

/**
 * Why `weft run` on PGlite must write the run to the store as it goes (returns the reason), or
 * undefined when it may run in memory and be kept at its end (kept-runs.ts): then a kill before
 * the end loses a run that waits for nothing and lasts a few seconds at most by its spec. Durable
 * by the spec: a sleep, a wait.event, a review gate, a child workflow that cannot be checked (an
 * expression, not found, itself again) or is durable itself, a rate limit whose period is over
 * QUICK_RUN_MS, and steps that may last (attempts x timeout for actions other than the instant
 * built-ins, plus retry backoffs) over QUICK_RUN_MS along their longest chain of needs (or the
 * run's timeout when shorter). A forEach over a step that
 * may last at all is durable (its items are only known at run time).
 */
export function whyDurable(spec: WorkflowSpec, children: ChildLookup): string | undefined {
  const verdict = boundOf(spec, children, [spec.name]);
  return typeof verdict === 'string' ? verdict : verdict > QUICK_RUN_MS ? `its steps may last ${verdict} ms (over ${QUICK_RUN_MS} ms)` : undefined;
}

/** The fast path of `weft run` on PGlite: in memory, kept at the end. */
export const keepsInMemory = (spec: WorkflowSpec, children: ChildLookup): boolean => whyDurable(spec, children) === undefined;

/** Milliseconds the spec's steps may last (their longest chain), or the reason it is durable whatever they last. */
function boundOf(spec: WorkflowSpec, children: ChildLookup, path: readonly string[]): number | string {
  // Steps run as soon as their needs completed: the run lasts as long as its longest chain of needs.
  const ends = new Map<string, number>();
  for (const step of planRun(spec)) {
    const where = `${spec.name} step ${step.id}`;
    if (step.action === WAIT_ACTIONS.sleep || step.action === WAIT_ACTIONS.event) return `${where}: ${step.action}`;
    if (step.review !== undefined) return `${where}: review`;
    if (step.rateLimit !== undefined && step.rateLimit.periodMs > QUICK_RUN_MS) return `${where}: rate limit per ${step.rateLimit.periodMs} ms`;
    let item = backoffMs(step);
    if (step.action === WAIT_ACTIONS.workflow) {
      const child = childOf(step, children, path);
      if (typeof child === 'string') return `${where}: ${child}`;
      item += child;
    } else if (!INSTANT_ACTIONS.has(step.action)) {
      item += step.retry.maxAttempts * step.timeoutMs;
    }
    if (step.forEach !== undefined && item > 0) return `${where}: forEach over a step that may last ${item} ms per item`;
    ends.set(step.id, item + Math.max(0, ...step.needs.map((id) => ends.get(id) ?? 0)));
  }
  const total = Math.max(0, ...ends.values());
  // A run timeout bounds the run; it is no wait of its own (a run of instant steps ends long before it).
  const runTimeout = runTimeoutMs(spec);
  return runTimeout === undefined ? total : Math.min(total, runTimeout);
}

function childOf(step: PlannedStep, children: ChildLookup, path: readonly string[]): number | string {
  const name = step.with['workflow'];
  if (typeof name !== 'string' || name.includes('${{')) return 'child workflow named by an expression';
  // A workflow that runs itself again: the nesting has no bound in the spec (WEFT_MAX_RUN_DEPTH ends it).
  if (path.includes(name)) return `child workflow ${name} runs itself again`;
  if (path.length > MAX_CHILDREN) return `child workflows nested over ${MAX_CHILDREN} deep`;
  const spec = children.get(name);
  if (spec === undefined) return `child workflow ${name} not found`;
  return boundOf(spec, children, [...path, name]);
}

/** The longest the retries of one attempt chain wait in all (jitter at its most). */
function backoffMs(step: PlannedStep): number {
  let total = 0;
  for (let attempt = 1; attempt < step.retry.maxAttempts; attempt++) {
    const plain = retryDelay({ ...step.retry, jitter: false }, attempt, '');
    total += step.retry.jitter ? Math.min(step.retry.maxIntervalMs, Math.round(plain * (1 + JITTER_RATIO))) : plain;
  }
  return total;
}

/** Every child workflow `spec` names literally (and theirs), looked up once each through `resolve` (the run's catalog). */
export async function childWorkflowsOf(spec: WorkflowSpec, resolve: (workflow: string) => Promise<{ spec: WorkflowSpec } | undefined>): Promise<Map<string, WorkflowSpec>> {
  const found = new Map<string, WorkflowSpec>();
  const queue = [spec];
  const asked = new Set<string>([spec.name]);
  for (let next = queue.pop(); next !== undefined && asked.size <= MAX_CHILDREN; next = queue.pop()) {
    for (const step of next.steps) {
      const name = step.action === WAIT_ACTIONS.workflow ? step.with?.['workflow'] : undefined;
      if (typeof name !== 'string' || name.includes('${{') || asked.has(name)) continue;
      asked.add(name);
      const child = (await resolve(name))?.spec;
      if (child === undefined) continue;
      found.set(name, child);
      queue.push(child);
    }
  }
  return found;
}
