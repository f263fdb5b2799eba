import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { HourlyDurationColumns } from './hourly-duration.columns';

/** One step of one workflow in one UTC hour; the durations of its completed executions in {@link HourlyDurationColumns}. */
@Entity({ name: 'analytics_step_hourly' })
@Index('ix_analytics_step_hourly_bucket', ['bucket'])
export class StepHourlyEntity extends HourlyDurationColumns {
  /** The runs' namespace: readers see their own only. */
  @PrimaryColumn({ type: 'text', default: 'default', primaryKeyConstraintName: 'pk_analytics_step_hourly' })
  namespace!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_analytics_step_hourly' })
  workflow!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text', primaryKeyConstraintName: 'pk_analytics_step_hourly' })
  stepId!: string;

  /** Start of the hour. */
  @PrimaryColumn({ type: 'timestamptz', primaryKeyConstraintName: 'pk_analytics_step_hourly' })
  bucket!: Date;

  @Column({ type: 'integer', default: 0 })
  completed!: number;

  @Column({ type: 'integer', default: 0 })
  failed!: number;

  @Column({ type: 'integer', default: 0 })
  retried!: number;

  @Column({ type: 'integer', default: 0 })
  skipped!: number;

  @Column({ type: 'integer', default: 0 })
  canceled!: number;

  @Column({ name: 'timed_out', type: 'integer', default: 0 })
  timedOut!: number;

  @Column({ name: 'last_failed_at', type: 'timestamptz', nullable: true })
  lastFailedAt!: Date | null;
}
