import type { ResolvedRetry } from './types';

/** Largest spread jitter applies to a delay: ±20%. */
export const JITTER_RATIO = 0.2;

/**
 * Delay in ms before the attempt after `attempt` (1-based: the attempt that just
 * failed). Fixed or exponential (initial × multiplier^(attempt-1)), with jitter of
 * up to ±20% drawn from a hash of `seed` (by convention `runId:stepId:attempt`) so
 * the same failure always waits the same time; never above maxInterval, never below 0.
 */
export function retryDelay(policy: ResolvedRetry, attempt: number, seed: string): number {
  const exponent = Math.max(0, attempt - 1);
  // 0 × Infinity is NaN: a zero interval stays zero however many attempts passed.
  const fixed = policy.backoff === 'fixed' || policy.initialIntervalMs === 0;
  const base = fixed ? policy.initialIntervalMs : policy.initialIntervalMs * policy.multiplier ** exponent;
  const capped = Math.min(policy.maxIntervalMs, base);
  const spread = policy.jitter ? 1 + JITTER_RATIO * (2 * unitHash(seed) - 1) : 1;
  const delay = Math.round(Math.min(policy.maxIntervalMs, capped * spread));
  return Number.isFinite(delay) && delay > 0 ? delay : 0;
}

/** FNV-1a with a murmur3 finaliser: a well-spread, deterministic value in [0, 1). */
export function unitHash(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}
