/**
 * A fixed-bucket log histogram of durations, stored sparsely as `{ "<bucket>": count }`
 * (JSON keys, so PostgreSQL can add to one bucket in place with `||`).
 *
 * Bucket 0 holds durations under 1 ms; bucket k >= 1 holds [2^((k-1)/8), 2^(k/8)) ms:
 * eight buckets per doubling, up to about 2^40 ms. A quantile is read as the geometric
 * middle of its bucket, so it is within 2^(1/16) - 1 (about 4.4 %) of a value that was
 * really recorded there, and it is clamped to the exact min and max (the first and last
 * ranks are the min and max themselves).
 */
export type DurationHistogram = Record<string, number>;

export const SUB_BUCKETS = 8;
export const MAX_BUCKET = 40 * SUB_BUCKETS;
/** Worst relative error of a quantile read from the sketch. */
export const SKETCH_RELATIVE_ERROR = 2 ** (1 / (2 * SUB_BUCKETS)) - 1;

export function bucketOf(durationMs: number): number {
  if (!(durationMs >= 1)) return 0;
  return Math.min(MAX_BUCKET, Math.floor(Math.log2(durationMs) * SUB_BUCKETS) + 1);
}

/** The value a bucket stands for: the geometric middle of its bounds (0 for bucket 0). */
export function representative(bucket: number): number {
  return bucket <= 0 ? 0 : 2 ** ((2 * bucket - 1) / (2 * SUB_BUCKETS));
}

export function addToHistogram(histogram: DurationHistogram, durationMs: number, count = 1): DurationHistogram {
  const key = String(bucketOf(durationMs));
  return { ...histogram, [key]: (histogram[key] ?? 0) + count };
}

export function mergeHistograms(histograms: readonly DurationHistogram[]): DurationHistogram {
  const merged: DurationHistogram = {};
  for (const histogram of histograms) for (const [key, count] of Object.entries(histogram)) merged[key] = (merged[key] ?? 0) + count;
  return merged;
}

/**
 * The q-quantile (0 < q <= 1) by nearest rank: the smallest recorded value with at
 * least q of all values at or below it. Null for an empty sketch.
 */
export function quantile(histogram: DurationHistogram, q: number, bounds?: { min: number | null; max: number | null }): number | null {
  const buckets = Object.entries(histogram)
    .map(([key, count]) => [Number(key), count] as const)
    .filter(([, count]) => count > 0)
    .sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  // The first and last ranks are the exact min and max, when known.
  if (rank === 1 && bounds?.min != null) return bounds.min;
  if (rank === total && bounds?.max != null) return bounds.max;
  let seen = 0;
  for (const [bucket, count] of buckets) {
    seen += count;
    if (seen >= rank) return clamp(representative(bucket), bounds);
  }
  return clamp(representative(buckets[buckets.length - 1]?.[0] ?? 0), bounds);
}

function clamp(value: number, bounds: { min: number | null; max: number | null } | undefined): number {
  let out = value;
  if (bounds?.min != null) out = Math.max(out, bounds.min);
  if (bounds?.max != null) out = Math.min(out, bounds.max);
  return out;
}
