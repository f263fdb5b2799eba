const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * A one-line chart of `values`, at most `width` characters: neighbouring points are
 * averaged when there are more, gaps (null) print as a space, and a flat series sits mid-height.
 */
export function sparkline(values: readonly (number | null)[], width = 48): string {
  const points = resample(values, Math.max(1, width));
  const present = points.filter((v): v is number => v !== null);
  if (present.length === 0) return ' '.repeat(points.length);
  const min = Math.min(...present);
  const max = Math.max(...present);
  return points
    .map((value) => {
      if (value === null) return ' ';
      if (max === min) return BARS[3];
      return BARS[Math.min(BARS.length - 1, Math.floor(((value - min) / (max - min)) * BARS.length))];
    })
    .join('');
}

function resample(values: readonly (number | null)[], width: number): (number | null)[] {
  if (values.length <= width) return [...values];
  const out: (number | null)[] = [];
  for (let i = 0; i < width; i++) {
    const group = values.slice(Math.floor((i * values.length) / width), Math.floor(((i + 1) * values.length) / width)).filter((v): v is number => v !== null);
    out.push(group.length === 0 ? null : group.reduce((a, b) => a + b, 0) / group.length);
  }
  return out;
}
