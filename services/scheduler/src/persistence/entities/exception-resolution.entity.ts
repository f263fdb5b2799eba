import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An exception (an open review, a failed run) resolved with a note: out of the queue, kept in history. */
@Entity({ name: 'exception_resolutions' })
export class ExceptionResolutionEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_exception_resolutions' })
  namespace!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_exception_resolutions' })
  kind!: string;

  /** The review id or the run id. */
  @PrimaryColumn({ name: 'target_id', type: 'text', primaryKeyConstraintName: 'pk_exception_resolutions' })
  targetId!: string;

  @Column({ type: 'text' })
  note!: string;

  @Column({ type: 'jsonb' })
  actor!: unknown;

  @Column({ name: 'resolved_at', type: 'timestamptz' })
  resolvedAt!: Date;
}
