/**
 * Whether a step's expressions cost grows with its run's size (issue 15: the cost of one event
 * must not): the core alone (no store, no bus) drives flat runs of each size whose every step has
 * a `with` template and an `if`, reading the run's inputs and one finished step, and prints ms of
 * core time per step. Before the lazy expression scope (session 14) a decision built every finished
 * step's view and converted it to CEL per evaluation: 1.1, 3.9, 10.4 ms per step at 2k, 5k, 10k
 * steps; since, 0.06-0.08 ms at every size up to 50k.
 *
 *   node -r @swc-node/register bench/expr-scale.ts [sizes...]
 */
import type { StepSpec } from '@weft/core';
import { RunDriver, workflow } from '@weft/core/testing';

function drive(size: number): number {
  const steps: StepSpec[] = Array.from({ length: size }, (_, i) => ({
    id: `s${i}`,
    action: 'noop',
    ...(i > 0 && { needs: ['s0'], if: '${{ steps.s0.status == "completed" }}' }),
    with: { n: '${{ inputs.n + 1 }}' },
  }));
  const run = new RunDriver(workflow(steps), { n: 1 });
  run.start();
  run.run('s0', {});
  const t0 = performance.now();
  for (let i = 1; i < size; i++) run.run(`s${i}`, {});
  const ms = performance.now() - t0;
  if (run.state.status !== 'completed') throw new Error(`the ${size}-step run ended ${run.state.status}`);
  return ms / (size - 1);
}

const sizes = process.argv.slice(2).map(Number);
for (const size of sizes.length > 0 ? sizes : [2_000, 5_000, 10_000, 50_000]) {
  console.log(`${String(size).padStart(6)} steps: ${drive(size).toFixed(3)} ms of core time per step`);
}
