import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/**
 * A run's state (RunState) minus its steps. Columns hold what queries filter on;
 * `extra` keeps any RunState field without a column, so the state round-trips.
 */
@Entity({ name: 'runs' })
@Unique('uq_runs_idempotency_key', ['namespace', 'idempotencyKey'])
@Index('ix_runs_created_at', ['createdAt'])
@Index('ix_runs_workflow_created_at', ['workflow', 'createdAt'])
@Index('ix_runs_status_created_at', ['status', 'createdAt'])
// The API lists a namespace's runs newest first, keyset-paginated on (created_at, id).
@Index('ix_runs_namespace_created_at', ['namespace', 'createdAt', 'id'])
@Index('ix_runs_namespace_workflow_created_at', ['namespace', 'workflow', 'createdAt', 'id'])
// Prefix search on run and correlation ids (text_pattern_ops, partial): made by migration RunsPrefix, not by TypeORM.
@Index('ix_runs_namespace_id_prefix', { synchronize: false })
@Index('ix_runs_namespace_correlation_prefix', { synchronize: false })
export class RunEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_runs' })
  id!: string;

  @Column({ type: 'text', default: 'default' })
  namespace!: string;

  @Column({ type: 'text' })
  workflow!: string;

  @Column({ type: 'text' })
  version!: string;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'jsonb' })
  inputs!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  outputs!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  error!: unknown;

  /** The spec the run was started with; later versions never change a run in flight. */
  @Column({ type: 'jsonb' })
  spec!: unknown;

  /** Steps with defaults resolved, as planned at creation (not recomputed: planRun may change between releases). */
  @Column({ type: 'jsonb' })
  plan!: unknown;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  extra!: Record<string, unknown>;

  /** RunState.seq; an update must find the value it loaded (optimistic check under the row lock). */
  @Column({ type: 'integer' })
  seq!: number;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;

  @Column({ name: 'correlation_id', type: 'text', nullable: true })
  correlationId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'deadline_at', type: 'timestamptz', nullable: true })
  deadlineAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
