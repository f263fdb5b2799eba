import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A registered workflow: its editable draft and which version is published. */
@Entity({ name: 'workflows' })
@Unique('uq_workflows_namespace_name', ['namespace', 'name'])
export class WorkflowEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_workflows' })
  id!: string;

  @Column({ type: 'text', default: 'default' })
  namespace!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  /** The spec being edited, not yet published. */
  @Column({ name: 'draft_spec', type: 'jsonb', nullable: true })
  draftSpec!: unknown;

  /** Bumped on every draft save; editors send it back to detect lost updates. */
  @Column({ name: 'draft_revision', type: 'integer', default: 0 })
  draftRevision!: number;

  @Column({ name: 'published_version', type: 'integer', nullable: true })
  publishedVersion!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
