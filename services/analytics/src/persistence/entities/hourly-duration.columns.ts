import { Column } from 'typeorm';

/**
 * The duration sketch both hourly aggregates keep (runs and steps): count, sum, min, max and a
 * log-bucket histogram. Not an entity: each table declares these columns through this class.
 */
export abstract class HourlyDurationColumns {
  @Column({ name: 'duration_count', type: 'integer', default: 0 })
  durationCount!: number;

  @Column({ name: 'duration_sum_ms', type: 'double precision', default: 0 })
  durationSumMs!: number;

  @Column({ name: 'duration_min_ms', type: 'double precision', nullable: true })
  durationMinMs!: number | null;

  @Column({ name: 'duration_max_ms', type: 'double precision', nullable: true })
  durationMaxMs!: number | null;

  /** Log-bucket sketch: `{ "<bucket>": count }` (see duration-sketch.util). */
  @Column({ name: 'duration_hist', type: 'jsonb', default: () => "'{}'" })
  durationHist!: Record<string, number>;
}
