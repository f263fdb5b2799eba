import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { WorkflowEntity } from './workflow.entity';

/** An immutable published spec. `hash` (of the canonical spec) makes re-publishing the same spec a no-op. */
@Entity({ name: 'workflow_versions' })
@Unique('uq_workflow_versions_version', ['namespace', 'workflow', 'version'])
@Unique('uq_workflow_versions_hash', ['namespace', 'workflow', 'hash'])
export class WorkflowVersionEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_workflow_versions' })
  id!: string;

  @Column({ type: 'text', default: 'default' })
  namespace!: string;

  /** The workflow's name. */
  @Column({ type: 'text' })
  workflow!: string;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ type: 'jsonb' })
  spec!: unknown;

  @Column({ type: 'text' })
  hash!: string;

  @Column({ type: 'boolean', default: false })
  archived!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @ManyToOne(() => WorkflowEntity, { onDelete: 'CASCADE', onUpdate: 'CASCADE' })
  @JoinColumn([
    { name: 'namespace', referencedColumnName: 'namespace', foreignKeyConstraintName: 'fk_workflow_versions_workflow' },
    { name: 'workflow', referencedColumnName: 'name', foreignKeyConstraintName: 'fk_workflow_versions_workflow' },
  ])
  workflowRef?: WorkflowEntity;
}
