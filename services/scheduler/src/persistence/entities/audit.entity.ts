import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One change made through the API or CLI (append-only). */
@Entity({ name: 'audit' })
@Index('ix_audit_namespace_at', ['namespace', 'at', 'id'])
export class AuditEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'pk_audit' })
  id!: string;

  /** Database time. */
  @Column({ type: 'timestamptz' })
  at!: Date;

  @Column({ type: 'text' })
  namespace!: string;

  /** `{keyId, name}` or `"local"`. */
  @Column({ type: 'jsonb' })
  actor!: unknown;

  /** e.g. signal.sent, review.decided. */
  @Column({ type: 'text' })
  action!: string;

  @Column({ name: 'target_kind', type: 'text' })
  targetKind!: string;

  @Column({ name: 'target_id', type: 'text' })
  targetId!: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  details!: unknown;
}
