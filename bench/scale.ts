/**
 * How validation and ordering scale with workflow size. Generates layered DAGs (each
 * step needs 1-3 steps of the layer before and reads an upstream output in `with`),
 * times validateSpec and topologicalOrder (median of several runs) and prints ms and
 * µs per step, which should stay roughly flat from 1k to 100k steps.
 *
 *   node -r @swc-node/register bench/scale.ts [sizes...]
 */
import { type StepSpec, topologicalOrder, validateSpec, type WorkflowSpec } from '@weft/core';
import { seededRandom } from '@weft/core/testing';

const WIDTH = 100;

type Shape = 'layered' | 'shared-root';

/**
 * `layered`: half the steps read an output of a step they need, half one two layers up
 * (reachable only through a need, so the transitive check runs).
 * `shared-root`: in addition every step reads the first step's output, the worst case for
 * per-reference searches.
 */
function generate(size: number, shape: Shape): WorkflowSpec {
  const next = seededRandom(size);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const steps: StepSpec[] = [];
  const needsOf = new Map<string, string[]>();
  for (let i = 0; i < size; i++) {
    const layer = Math.floor(i / WIDTH);
    const id = `s${layer}_${i % WIDTH}`;
    const step: StepSpec = { id, action: 'noop' };
    if (layer > 0) {
      const previous = Math.min(WIDTH, size - (layer - 1) * WIDTH);
      const needs = new Set<string>();
      const count = 1 + Math.floor(next() * 3);
      while (needs.size < count) needs.add(`s${layer - 1}_${Math.floor(next() * previous)}`);
      step.needs = [...needs];
      const need = pick(step.needs);
      const grand = needsOf.get(need);
      const source = grand !== undefined && grand.length > 0 && next() < 0.5 ? pick(grand) : need;
      step.with = { value: `\${{ steps.${source}.output.value + 1 }}`, label: `item \${{ inputs.prefix }}-${i}` };
      if (shape === 'shared-root') {
        // Every step of layer 1 needs the root, so every later step descends from it.
        if (layer === 1 && !needs.has('s0_0')) step.needs.push('s0_0');
        step.if = '${{ steps.s0_0.output.enabled }}';
      }
    }
    needsOf.set(id, step.needs ?? []);
    steps.push(step);
  }
  return { apiVersion: 'weft/v1', kind: 'Workflow', name: `scale-${size}`, inputs: { prefix: { type: 'string', default: 'x' } }, steps };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function time(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

function measure(size: number, shape: Shape): string[] {
  const spec = generate(size, shape);
  const problems = validateSpec(spec);
  if (problems.length > 0) throw new Error(`generated ${shape} spec of ${size} steps is invalid: ${problems[0].path}: ${problems[0].message}`);
  if (topologicalOrder(spec.steps).length !== size) throw new Error('topologicalOrder lost steps');
  const runs = size >= 100_000 ? 3 : 7;
  const validate: number[] = [];
  const order: number[] = [];
  for (let r = 0; r < runs; r++) {
    validate.push(time(() => validateSpec(spec)));
    // Shuffled copy: the already-ordered fast path would hide Kahn's cost.
    const shuffled = [...spec.steps].reverse();
    order.push(time(() => topologicalOrder(shuffled)));
  }
  const v = median(validate);
  const o = median(order);
  return [shape, size.toLocaleString('en-US'), v.toFixed(1), o.toFixed(1), (v + o).toFixed(1), (((v + o) * 1000) / size).toFixed(2)];
}

function main(): void {
  const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const rows = [['shape', 'steps', 'validateSpec ms', 'topologicalOrder ms', 'total ms', 'µs/step']];
  for (const shape of ['layered', 'shared-root'] as const) {
    for (const size of sizes.length > 0 ? sizes : [1_000, 10_000, 100_000]) rows.push(measure(size, shape));
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c < 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

main();
