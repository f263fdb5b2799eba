import { keysToForget, MAX_POLL_BACKOFF_MS, newKeys, nextPollDelay, parseRetryAfter } from './poll.util';
import { occurrenceId, tickOccurrence, triggerIdempotencyKey } from './fire-log';

const NOW = Date.parse('2026-06-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('Mon, 01 Jun 2026 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Mon, 01 Jun 2026 11:00:00 GMT', NOW)).toBe(0);
  });
  it('ignores what it cannot read and caps what is excessive', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter('9999999999', NOW)).toBe(24 * 3_600_000);
  });
});

describe('nextPollDelay', () => {
  it('polls every interval after a success', () => {
    expect(nextPollDelay({ everyMs: 30_000, consecutiveFailures: 0 })).toBe(30_000);
  });
  it('doubles per failure up to the cap', () => {
    expect(nextPollDelay({ everyMs: 30_000, consecutiveFailures: 1 })).toBe(60_000);
    expect(nextPollDelay({ everyMs: 30_000, consecutiveFailures: 3 })).toBe(240_000);
    expect(nextPollDelay({ everyMs: 30_000, consecutiveFailures: 50 })).toBe(MAX_POLL_BACKOFF_MS);
  });
  it('a long interval is never shortened by the cap', () => {
    expect(nextPollDelay({ everyMs: 3_600_000, consecutiveFailures: 2 })).toBe(3_600_000);
  });
  it('waits at least Retry-After', () => {
    expect(nextPollDelay({ everyMs: 1000, consecutiveFailures: 1, retryAfterMs: 5000 })).toBe(5000);
    expect(nextPollDelay({ everyMs: 1000, consecutiveFailures: 5, retryAfterMs: 5000 })).toBe(32_000);
  });
});

describe('seen keys', () => {
  it('keeps new keys once each, in order', () => {
    const stored = new Set(['a']);
    expect(newKeys(['a', 'b', 'c', 'b'], (k) => stored.has(k))).toEqual(['b', 'c']);
  });
  it('forgets the oldest beyond the capacity', () => {
    expect(keysToForget(12, 10)).toBe(2);
    expect(keysToForget(3, 10)).toBe(0);
  });
});

describe('idempotency keys', () => {
  it('name the occurrence', () => {
    expect(triggerIdempotencyKey('nightly-report', 'nightly', tickOccurrence(NOW))).toBe('trigger:nightly-report:nightly:2026-06-01T12:00:00.000Z');
    expect(triggerIdempotencyKey('shop', 'github', 'd-1')).toBe('trigger:shop:github:d-1');
  });
  it('hash long or spaced occurrences so keys stay bounded', () => {
    expect(occurrenceId('x'.repeat(500))).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(occurrenceId('a b')).toMatch(/^sha256:/);
    expect(occurrenceId('x'.repeat(500))).toBe(occurrenceId('x'.repeat(500)));
  });
});
