import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Runs of one workflow in one UTC hour. */
@Entity({ name: 'analytics_run_hourly' })
@Index('ix_analytics_run_hourly_bucket', ['bucket'])
export class RunHourlyEntity {
  /** The runs' namespace: readers see their own only. */
  @PrimaryColumn({ type: 'text', default: 'default', primaryKeyConstraintName: 'pk_analytics_run_hourly' })
  namespace!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_analytics_run_hourly' })
  workflow!: string;

  @PrimaryColumn({ type: 'timestamptz', primaryKeyConstraintName: 'pk_analytics_run_hourly' })
  bucket!: Date;

  @Column({ type: 'integer', default: 0 })
  started!: number;

  /** Re-runs of finished runs (run.retry). */
  @Column({ type: 'integer', default: 0 })
  restarted!: number;

  @Column({ type: 'integer', default: 0 })
  completed!: number;

  @Column({ name: 'partially_completed', type: 'integer', default: 0 })
  partiallyCompleted!: number;

  @Column({ type: 'integer', default: 0 })
  failed!: number;

  @Column({ type: 'integer', default: 0 })
  canceled!: number;

  /** Durations recorded (completed runs). */
  @Column({ name: 'duration_count', type: 'integer', default: 0 })
  durationCount!: number;

  @Column({ name: 'duration_sum_ms', type: 'double precision', default: 0 })
  durationSumMs!: number;

  @Column({ name: 'duration_min_ms', type: 'double precision', nullable: true })
  durationMinMs!: number | null;

  @Column({ name: 'duration_max_ms', type: 'double precision', nullable: true })
  durationMaxMs!: number | null;

  @Column({ name: 'duration_hist', type: 'jsonb', default: () => "'{}'" })
  durationHist!: Record<string, number>;
}
