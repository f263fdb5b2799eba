/**
 * Whether the core's cost per step grows with its run's size (issue 15: the cost of one event must
 * not): the core alone (no store, no bus) drives flat runs of each size and prints ms of core time
 * per step, for three shapes:
 * - `plain`: noop steps;
 * - `expressions`: every step has a `with` template and an `if`, reading the run's inputs and one
 *   finished step. Before the lazy expression scope (session 14) a decision built every finished
 *   step's view and converted it to CEL per evaluation: 1.1, 3.9, 10.4 ms per step at 2k, 5k, 10k;
 * - `a sleep in the plan`: one more step sleeps (any wait, review, slot or rate limit does the
 *   same). Before session 14 every decision of such a run looked for its first step in flight:
 *   0.07, 0.16, 0.51 ms per step at 2k, 10k, 30k.
 * Flat from 2k to 50k is the target.
 *
 *   node -r @swc-node/register bench/core-scale.ts [sizes...]
 */
import type { StepSpec } from '@weft/core';
import { RunDriver, workflow } from '@weft/core/testing';

type Shape = 'plain' | 'expressions' | 'a sleep in the plan';

function drive(size: number, shape: Shape): number {
  const steps: StepSpec[] = Array.from({ length: size }, (_, i) => ({
    id: `s${i}`,
    action: 'noop',
    ...(shape === 'expressions' && { with: { n: '${{ inputs.n + 1 }}' } }),
    ...(shape === 'expressions' && i > 0 && { needs: ['s0'], if: '${{ steps.s0.status == "completed" }}' }),
  }));
  if (shape === 'a sleep in the plan') steps.push({ id: 'nap', action: 'sleep', needs: ['s0'], with: { duration: '1h' } });
  const run = new RunDriver(workflow(steps), { n: 1 });
  run.start();
  run.run('s0', {});
  const t0 = performance.now();
  for (let i = 1; i < size; i++) run.run(`s${i}`, {});
  const ms = performance.now() - t0;
  const expected = shape === 'a sleep in the plan' ? 'waiting' : 'completed';
  if (run.state.status !== expected) throw new Error(`the ${size}-step ${shape} run is ${run.state.status}, not ${expected}`);
  return ms / (size - 1);
}

const sizes = process.argv.slice(2).map(Number);
for (const shape of ['plain', 'expressions', 'a sleep in the plan'] as const) {
  const cells = (sizes.length > 0 ? sizes : [2_000, 10_000, 50_000]).map((size) => `${size}: ${drive(size, shape).toFixed(3)}`);
  console.log(`${shape.padEnd(20)} ms of core time per step  ${cells.join('  ')}`);
}
