import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A tenant: workflows, runs and API keys belong to exactly one. `default` always exists. */
@Entity({ name: 'namespaces' })
export class NamespaceEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_namespaces' })
  name!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
