import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { NamespaceEntity } from './namespace.entity';

/**
 * An API key: its public id and the sha256 of the whole key, never the key itself. Read and
 * written by `SqlApiKeyRepository` beside it; the table comes from ApiSchema1795400000000
 * (./migrations), which the scheduler applies with its own migrations.
 */
@Entity({ name: 'api_keys' })
@Index('ix_api_keys_namespace', ['namespace'])
export class ApiKeyEntity {
  /** The key id, readable in the key itself (`weft_<id>_<secret>`). */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_api_keys' })
  id!: string;

  @Column({ type: 'text' })
  namespace!: string;

  /** A label for people ("ci", "alice's laptop"). */
  @Column({ type: 'text', nullable: true })
  name!: string | null;

  /** Hex sha256 of the whole key. */
  @Column({ type: 'text' })
  hash!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @ManyToOne(() => NamespaceEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'namespace', referencedColumnName: 'name', foreignKeyConstraintName: 'fk_api_keys_namespace' })
  namespaceRef?: NamespaceEntity;
}
