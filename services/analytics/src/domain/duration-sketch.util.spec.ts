import { addToHistogram, bucketOf, mergeHistograms, quantile, representative, SKETCH_RELATIVE_ERROR } from './duration-sketch.util';

describe('duration sketch', () => {
  it('puts durations in log buckets, eight per doubling', () => {
    expect([0, 0.5, 1, 1.5, 2, 4, 100, 1000].map(bucketOf)).toEqual([0, 0, 1, 5, 9, 17, 54, 80]);
    expect(bucketOf(10 ** 15)).toBe(320);
    expect(representative(54)).toBeCloseTo(2 ** (107 / 16), 10);
  });

  it('reads every recorded value back within the stated error', () => {
    for (let ms = 1; ms < 5_000_000; ms = Math.ceil(ms * 1.37)) {
      const read = representative(bucketOf(ms));
      expect(Math.abs(read - ms) / ms).toBeLessThanOrEqual(SKETCH_RELATIVE_ERROR + 1e-12);
    }
  });

  it('answers nearest-rank quantiles, clamped to the exact min and max', () => {
    let h = {};
    for (const ms of [100, 100, 200, 400, 800, 800, 800, 1600, 3200, 6400]) h = addToHistogram(h, ms);
    // p50: rank 5 of 10 is 800 ms (bucket 78); p95: rank 10 is 6400 ms, the max.
    expect(quantile(h, 0.5)).toBeCloseTo(2 ** (155 / 16), 6);
    expect(quantile(h, 0.95, { min: 100, max: 6400 })).toBe(6400);
    expect(quantile(h, 0.01, { min: 100, max: 6400 })).toBe(100);
    expect(quantile({}, 0.5)).toBeNull();
  });

  it('merges sketches by adding bucket counts', () => {
    expect(mergeHistograms([{ '1': 2, '5': 1 }, { '5': 3 }, {}])).toEqual({ '1': 2, '5': 4 });
  });
});
