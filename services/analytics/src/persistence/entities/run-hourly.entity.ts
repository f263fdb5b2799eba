import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { HourlyDurationColumns } from './hourly-duration.columns';

/** Runs of one workflow in one UTC hour; the durations of its completed runs in {@link HourlyDurationColumns}. */
@Entity({ name: 'analytics_run_hourly' })
@Index('ix_analytics_run_hourly_bucket', ['bucket'])
export class RunHourlyEntity extends HourlyDurationColumns {
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
}
