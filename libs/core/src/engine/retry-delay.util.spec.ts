import fc from 'fast-check';
import { JITTER_RATIO, retryDelay, unitHash } from './retry-delay.util';
import type { ResolvedRetry } from './types';

const policy = (over: Partial<ResolvedRetry> = {}): ResolvedRetry => ({
  maxAttempts: 5,
  backoff: 'exponential',
  initialIntervalMs: 1_000,
  maxIntervalMs: 60_000,
  multiplier: 2,
  jitter: false,
  nonRetryable: [],
  ...over,
});

describe('retryDelay', () => {
  it('grows exponentially and stops at maxInterval', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelay(policy(), n, 's'))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(retryDelay(policy({ multiplier: 3 }), 3, 's')).toBe(9_000);
    expect(retryDelay(policy(), 5_000, 's')).toBe(60_000);
  });

  it('keeps a fixed interval fixed', () => {
    expect([1, 2, 9].map((n) => retryDelay(policy({ backoff: 'fixed', initialIntervalMs: 750 }), n, 's'))).toEqual([750, 750, 750]);
  });

  it('jitters deterministically by seed, within ±20%', () => {
    const p = policy({ jitter: true, initialIntervalMs: 10_000 });
    const delays = Array.from({ length: 200 }, (_, i) => retryDelay(p, 1, `run:step:${i}`));
    expect(delays.every((d) => d >= 8_000 && d <= 12_000)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(150);
    expect(Math.min(...delays)).toBeLessThan(8_500);
    expect(Math.max(...delays)).toBeGreaterThan(11_500);
    expect(retryDelay(p, 1, 'run:step:7')).toBe(delays[7]);
  });

  it('never exceeds maxInterval nor goes below 0, whatever the policy', () => {
    fc.assert(
      fc.property(
        fc.record({
          backoff: fc.constantFrom('fixed' as const, 'exponential' as const),
          initialIntervalMs: fc.nat({ max: 100_000 }),
          maxIntervalMs: fc.nat({ max: 200_000 }),
          multiplier: fc.double({ min: 1, max: 100, noNaN: true }),
          jitter: fc.boolean(),
        }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.string(),
        (over, attempt, seed) => {
          const p = policy(over);
          const delay = retryDelay(p, attempt, seed);
          const grown = p.initialIntervalMs === 0 ? 0 : p.initialIntervalMs * p.multiplier ** (attempt - 1);
          const base = Math.min(p.maxIntervalMs, p.backoff === 'fixed' ? p.initialIntervalMs : grown);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(p.maxIntervalMs);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - JITTER_RATIO)));
          expect(delay).toBeLessThanOrEqual(Math.ceil(base * (1 + JITTER_RATIO)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('unitHash', () => {
  it('maps strings into [0, 1) evenly enough', () => {
    const values = Array.from({ length: 1_000 }, (_, i) => unitHash(`r1:s:${i}`));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const low = values.filter((v) => v < 0.5).length;
    expect(low).toBeGreaterThan(430);
    expect(low).toBeLessThan(570);
  });
});
