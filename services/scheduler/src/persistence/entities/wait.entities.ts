import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RunEntity } from './run.entity';

/** An outside event steps may wait for (`wait.event`); kept for WEFT_SIGNAL_RETENTION. */
@Entity({ name: 'signals' })
@Index('ix_signals_lookup', ['namespace', 'name', 'key', 'receivedAt'])
@Index('ix_signals_received_at', ['receivedAt'])
export class SignalEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_signals' })
  namespace!: string;

  /** The sender's id (a repeated id is the same signal) or a generated one. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_signals' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  key!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  data!: unknown;

  /** Database time. */
  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;
}

/** A `wait.event` step waiting for a signal; removed when satisfied, timed out or canceled. */
@Entity({ name: 'signal_waits' })
@Index('ix_signal_waits_lookup', ['namespace', 'name', 'key'])
export class SignalWaitEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName: 'pk_signal_waits' })
  runId!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text', primaryKeyConstraintName: 'pk_signal_waits' })
  stepId!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ type: 'text' })
  name!: string;

  /** NULL: any key. */
  @Column({ type: 'text', nullable: true })
  key!: string | null;

  /** The wait's fencing token (the step attempt's). */
  @Column({ type: 'text' })
  token!: string;

  /** The step's start minus its lookback: older signals do not count. */
  @Column({ type: 'timestamptz' })
  since!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  /** The last stored signal of the lookback handed over while more may follow (NULL: the backlog is done). */
  @Column({ name: 'backlog_at', type: 'timestamptz', nullable: true })
  backlogAt!: Date | null;

  @Column({ name: 'backlog_id', type: 'text', nullable: true })
  backlogId!: string | null;

  /** The backlog ends here (the registration): later signals found the wait themselves. */
  @Column({ name: 'backlog_until', type: 'timestamptz', nullable: true })
  backlogUntil!: Date | null;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'fk_signal_waits_run' })
  run?: RunEntity;
}

/** A wait and a signal that met, until the core has been told (`signal.received`). No foreign key to runs (see the migration). */
@Entity({ name: 'signal_deliveries' })
@Index('ix_signal_deliveries_received_at', ['receivedAt'])
export class SignalDeliveryEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName: 'pk_signal_deliveries' })
  runId!: string;

  @PrimaryColumn({ name: 'step_id', type: 'text', primaryKeyConstraintName: 'pk_signal_deliveries' })
  stepId!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @PrimaryColumn({ name: 'signal_id', type: 'text', primaryKeyConstraintName: 'pk_signal_deliveries' })
  signalId!: string;

  @Column({ type: 'text' })
  token!: string;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @ManyToOne(() => SignalEntity, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'namespace', referencedColumnName: 'namespace', foreignKeyConstraintName: 'fk_signal_deliveries_signal' },
    { name: 'signal_id', referencedColumnName: 'id', foreignKeyConstraintName: 'fk_signal_deliveries_signal' },
  ])
  signal?: SignalEntity;
}

/** A step's output held for a person's decision (`review:`), and the decision once made. */
@Entity({ name: 'reviews' })
@Index('ix_reviews_namespace_status', ['namespace', 'status', 'openedAt', 'id'])
export class ReviewEntity {
  /** The reviewed attempt's token. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_reviews' })
  id!: string;

  @Column({ type: 'text' })
  namespace!: string;

  @Column({ name: 'run_id', type: 'text' })
  runId!: string;

  @Column({ type: 'text' })
  workflow!: string;

  @Column({ name: 'step_id', type: 'text' })
  stepId!: string;

  @Column({ type: 'integer' })
  attempt!: number;

  /** open, decided or canceled. */
  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'text', nullable: true })
  instructions!: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  assignees!: string[];

  @Column({ type: 'integer', default: 0 })
  tier!: number;

  @Column({ type: 'boolean', default: false })
  overdue!: boolean;

  @Column({ name: 'by_rule', type: 'boolean', default: false })
  byRule!: boolean;

  @Column({ type: 'jsonb', nullable: true })
  form!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  output!: unknown;

  @Column({ name: 'opened_at', type: 'timestamptz' })
  openedAt!: Date;

  @Column({ name: 'deadline_at', type: 'timestamptz', nullable: true })
  deadlineAt!: Date | null;

  @Column({ name: 'decided_at', type: 'timestamptz', nullable: true })
  decidedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  decision!: string | null;

  /** `{keyId, name}` or `"local"`. */
  @Column({ type: 'jsonb', nullable: true })
  actor!: unknown;

  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  payload!: unknown;

  @Column({ name: 'decision_id', type: 'text', nullable: true })
  decisionId!: string | null;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'fk_reviews_run' })
  run?: RunEntity;
}
