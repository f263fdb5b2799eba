import { Column } from 'typeorm';

/**
 * Where an event stands in its run's order, kept by journal entries and checkpoints alike:
 * its time, then the scheduler's decision number and the index within that decision.
 * Not an entity: each table declares these columns through this class.
 */
export abstract class EventOrderColumns {
  @Column({ type: 'timestamptz' })
  at!: Date;

  /** The scheduler's decision number, from the event id. */
  @Column({ type: 'integer', default: 0 })
  seq!: number;

  /** The event's index within its decision. */
  @Column({ type: 'integer', default: 0 })
  idx!: number;
}
