import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { RunEntity } from './run.entity';

/** Where a run came from when another run begot it (a rerun from a step). */
@Entity({ name: 'run_links' })
@Index('ix_run_links_source_run_id', ['sourceRunId'])
export class RunLinkEntity {
  @PrimaryColumn({ name: 'run_id', type: 'text', primaryKeyConstraintName: 'pk_run_links' })
  runId!: string;

  @Column({ type: 'text' })
  namespace!: string;

  /** `rerun`. */
  @Column({ type: 'text' })
  kind!: string;

  @Column({ name: 'source_run_id', type: 'text' })
  sourceRunId!: string;

  /** The step the rerun started from; null when every step ran again. */
  @Column({ name: 'from_step', type: 'text', nullable: true })
  fromStep!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @ManyToOne(() => RunEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'fk_run_links_run' })
  run?: RunEntity;
}
