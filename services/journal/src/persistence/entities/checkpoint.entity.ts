import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EventOrderColumns } from './event-order.columns';

/** A completed step's output and the run's accumulated outputs at that point. */
@Entity({ name: 'journal_checkpoints' })
@Index('ix_journal_checkpoints_at', ['at'])
export class CheckpointEntity extends EventOrderColumns {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName: 'pk_journal_checkpoints' })
  runId!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text', primaryKeyConstraintName: 'pk_journal_checkpoints' })
  stepId!: string;

  @Column({ type: 'text' })
  workflow!: string;

  @Column({ type: 'text' })
  version!: string;

  @Column({ type: 'integer', nullable: true })
  attempt!: number | null;

  @Column({ name: 'event_id', type: 'text' })
  eventId!: string;

  @Column({ type: 'jsonb', nullable: true })
  output!: unknown;

  /** stepId -> output of every step completed up to and including this one. */
  @Column({ type: 'jsonb' })
  state!: Record<string, unknown>;

  /** The run's namespace: readers see their own only. */
  @Column({ type: 'text', default: 'default' })
  namespace!: string;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt!: Date;
}
