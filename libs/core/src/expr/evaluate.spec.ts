import { evaluateCondition, renderValue } from './evaluate';
import type { ExprScope } from './cel';

const scope: ExprScope = {
  inputs: { n: 2, ratio: 1.5, name: 'weft' },
  steps: { a: { status: 'completed', output: { x: 41, rows: [{ id: 1 }, { id: 2 }] } } },
  run: { id: 'r1', workflow: 'demo' },
};

describe('renderValue', () => {
  it('adds an int literal to an integral JSON number (the int/double seam)', () => {
    expect(renderValue('${{ steps.a.output.x + 1 }}', scope)).toBe(42);
  });

  it('mixes doubles and ints in arithmetic', () => {
    expect(renderValue('${{ inputs.ratio * 2 }}', scope)).toBe(3);
    expect(renderValue('${{ inputs.n + 0.5 }}', scope)).toBe(2.5);
  });

  it('keeps the type of a whole expression and interpolates mixed strings', () => {
    expect(renderValue({ ids: '${{ steps.a.output.rows.map(r, r.id) }}', msg: 'hi ${{ inputs.name }} #${{ inputs.n }}' }, scope)).toEqual({
      ids: [1, 2],
      msg: 'hi weft #2',
    });
  });

  it('evaluates bare and wrapped conditions', () => {
    expect(evaluateCondition('inputs.n > 1', scope)).toBe(true);
    expect(evaluateCondition('${{ steps.a.output.x == 0 }}', scope)).toBe(false);
    expect(() => evaluateCondition('inputs.name', scope)).toThrow(/must be a bool/);
  });
});
