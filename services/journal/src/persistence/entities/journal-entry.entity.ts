import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { EventOrderColumns } from './event-order.columns';

/** One lifecycle event, append-only; the unique event id makes redelivery a no-op. */
@Entity({ name: 'journal_entries' })
@Unique('uq_journal_entries_event_id', ['eventId'])
@Index('ix_journal_entries_run', ['runId', 'at', 'seq', 'idx'])
@Index('ix_journal_entries_namespace_workflow_at', ['namespace', 'workflow', 'at'])
@Index('ix_journal_entries_namespace_type_at', ['namespace', 'type', 'at'])
@Index('ix_journal_entries_namespace_at', ['namespace', 'at'])
@Index('ix_journal_entries_at', ['at'])
export class JournalEntryEntity extends EventOrderColumns {
  /** Arrival order; the last tie-breaker of the journal's order. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'pk_journal_entries' })
  id!: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId!: string;

  @Column({ name: 'run_id', type: 'text' })
  runId!: string;

  @Column({ type: 'text' })
  workflow!: string;

  @Column({ type: 'text' })
  version!: string;

  @Column({ name: 'step_id', type: 'text', nullable: true })
  stepId!: string | null;

  @Column({ type: 'integer', nullable: true })
  attempt!: number | null;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ name: 'duration_ms', type: 'double precision', nullable: true })
  durationMs!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  error!: unknown;

  @Column({ name: 'correlation_id', type: 'text', nullable: true })
  correlationId!: string | null;

  @Column({ name: 'trace_id', type: 'text', nullable: true })
  traceId!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  data!: unknown;

  /** The run's namespace: readers see their own only. */
  @Column({ type: 'text', default: 'default' })
  namespace!: string;

  @Column({ name: 'recorded_at', type: 'timestamptz', default: () => 'now()' })
  recordedAt!: Date;
}
