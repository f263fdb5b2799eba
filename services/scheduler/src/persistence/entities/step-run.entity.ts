import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RunEntity } from './run.entity';

/**
 * One step of a run (StepState). `extra` keeps any StepState field without a
 * column (reason, and whatever the core adds), so the state round-trips.
 */
@Entity({ name: 'step_runs' })
@Index('ix_step_runs_status_lease', ['status', 'leaseExpiresAt'])
export class StepRunEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName: 'pk_step_runs' })
  runId!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text', primaryKeyConstraintName: 'pk_step_runs' })
  stepId!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'integer' })
  attempt!: number;

  /** Fencing token of the current attempt. */
  @Column({ type: 'text', nullable: true })
  token!: string | null;

  @Column({ name: 'queued_at', type: 'timestamptz', nullable: true })
  queuedAt!: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  /** The reconciler scans (status, lease_expires_at) for silent workers. */
  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt!: Date | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  /** SQL NULL: no output; JSON null: the step returned null. */
  @Column({ type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  error!: unknown;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  attempts!: unknown[];

  @Column({ type: 'jsonb', default: () => "'{}'" })
  extra!: Record<string, unknown>;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'fk_step_runs_run' })
  run?: RunEntity;
}
