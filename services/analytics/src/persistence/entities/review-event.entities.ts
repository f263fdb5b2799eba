import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** When a review opened (its first review.requested): the start of its time to decision. */
@Entity({ name: 'analytics_review_openings' })
@Index('ix_analytics_review_openings_opened_at', ['openedAt'])
export class ReviewOpeningEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_analytics_review_openings' })
  namespace!: string;

  @PrimaryColumn({ name: 'review_id', type: 'text', primaryKeyConstraintName: 'pk_analytics_review_openings' })
  reviewId!: string;

  @Column({ name: 'opened_at', type: 'timestamptz' })
  openedAt!: Date;
}

/**
 * One decided review (review.decided): few rows (people decide them), so percentiles of the time
 * to decision are exact, read over the window's decisions joined with their openings.
 */
@Entity({ name: 'analytics_review_decisions' })
@Index('ix_analytics_review_decisions_decided_at', ['namespace', 'decidedAt'])
export class ReviewDecisionEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_analytics_review_decisions' })
  namespace!: string;

  @PrimaryColumn({ name: 'review_id', type: 'text', primaryKeyConstraintName: 'pk_analytics_review_decisions' })
  reviewId!: string;

  @Column({ type: 'text' })
  workflow!: string;

  @Column({ name: 'step_id', type: 'text' })
  stepId!: string;

  /** continue | correct | retry | reject */
  @Column({ type: 'text' })
  decision!: string;

  @Column({ name: 'decided_at', type: 'timestamptz' })
  decidedAt!: Date;
}
