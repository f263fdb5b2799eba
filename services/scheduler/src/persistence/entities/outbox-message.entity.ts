import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A message written in the same transaction as the state change that caused it;
 * a relay publishes it and sets published_at (transactional outbox).
 */
@Entity({ name: 'outbox' })
@Index('ix_outbox_unpublished', ['id'], { where: '(published_at IS NULL)' })
@Index('ix_outbox_quarantined', ['id'], { where: '(quarantined_at IS NOT NULL)' })
export class OutboxMessageEntity {
  /** Publication order within a run (runs are serialised, so a run's rows are numbered in commit order). */
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'pk_outbox' })
  id!: string;

  @Column({ name: 'run_id', type: 'text' })
  runId!: string;

  /** publish (durable stream) or broadcast (every live listener). */
  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  /** Broker de-duplication id. */
  @Column({ name: 'msg_id', type: 'text' })
  msgId!: string;

  @Column({ type: 'jsonb', nullable: true })
  headers!: Record<string, string> | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** A relay took the row until then; after it, another relay may take it again. */
  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil!: Date | null;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;

  /** Set when the broker refused the row for good (never published; the relay skips it). */
  @Column({ name: 'quarantined_at', type: 'timestamptz', nullable: true })
  quarantinedAt!: Date | null;

  /** Why: the broker's error. */
  @Column({ name: 'quarantine_reason', type: 'text', nullable: true })
  quarantineReason!: string | null;
}
