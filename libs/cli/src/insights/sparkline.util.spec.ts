import { sparkline } from './sparkline.util';
import { renderTable } from './table.util';

describe('sparkline', () => {
  it('scales from the lowest to the highest value, gaps as spaces', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([10, null, 20])).toBe('▁ █');
    expect(sparkline([5, 5, 5])).toBe('▄▄▄');
    expect(sparkline([null, null])).toBe('  ');
    expect(sparkline([])).toBe('');
  });

  it('averages neighbours to fit the width', () => {
    expect(sparkline([1, 1, 8, 8, null, null, 4, 6], 4)).toBe('▁█ ▅');
    expect(sparkline(Array.from({ length: 500 }, (_, i) => i), 40)).toHaveLength(40);
  });
});

describe('renderTable', () => {
  it('aligns columns under their headers', () => {
    expect(renderTable(['STEP', 'N'], [['extract', '1'], ['a', '100']], '  ')).toEqual(['  STEP     N', '  extract  1', '  a        100']);
  });
});
