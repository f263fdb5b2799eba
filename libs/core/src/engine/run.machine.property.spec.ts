import fc from 'fast-check';
import { seen, simulate, specArb } from '../testing';

/**
 * Random DAGs (specArb) played to the end by the simulator (testing/run-simulator.util.ts),
 * which checks every invariant on every decision.
 */

describe('decide over random DAGs and random worker behaviour', () => {
  it('keeps every invariant', () => {
    fc.assert(
      fc.property(specArb, fc.integer(), (spec, seed) => {
        simulate(spec, seed);
      }),
      { numRuns: 300 },
    );
    for (const [what, count] of Object.entries(seen)) expect([what, count > 0]).toEqual([what, true]);
  });
});
