import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RunEntity } from './run.entity';

/** A pending timer (retry, step timeout, lease, run timeout); at most one per kind per step. */
@Entity({ name: 'timers' })
@Index('ix_timers_fire_at', ['fireAt'])
export class TimerEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName: 'pk_timers' })
  runId!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_timers' })
  timer!: string;

  /** Empty for run-level timers (a primary key column cannot be NULL). */
  @PrimaryColumn({ name: 'step_id', type: 'text', default: '', primaryKeyConstraintName: 'pk_timers' })
  stepId!: string;

  @Column({ type: 'integer', nullable: true })
  attempt!: number | null;

  @Column({ name: 'fire_at', type: 'timestamptz' })
  fireAt!: Date;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'fk_timers_run' })
  run?: RunEntity;
}
