import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An event already applied to the aggregates; inserted in the same statement as its update. */
@Entity({ name: 'analytics_processed_events' })
@Index('ix_analytics_processed_events_processed_at', ['processedAt'])
export class ProcessedEventEntity {
  @PrimaryColumn({ name: 'event_id', type: 'text', primaryKeyConstraintName: 'pk_analytics_processed_events' })
  eventId!: string;

  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' })
  processedAt!: Date;
}
