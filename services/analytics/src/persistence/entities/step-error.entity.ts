import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Failed attempts of one step in one hour, by error code. */
@Entity({ name: 'analytics_step_errors' })
@Index('ix_analytics_step_errors_bucket', ['bucket'])
export class StepErrorEntity {
  /** The runs' namespace: readers see their own only. */
  @PrimaryColumn({ type: 'text', default: 'default', primaryKeyConstraintName: 'pk_analytics_step_errors' })
  namespace!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_analytics_step_errors' })
  workflow!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text', primaryKeyConstraintName: 'pk_analytics_step_errors' })
  stepId!: string;

  @PrimaryColumn({ type: 'timestamptz', primaryKeyConstraintName: 'pk_analytics_step_errors' })
  bucket!: Date;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_analytics_step_errors' })
  code!: string;

  /** Final failures. */
  @Column({ type: 'integer', default: 0 })
  failures!: number;

  /** Attempts that failed and were retried. */
  @Column({ type: 'integer', default: 0 })
  retries!: number;
}
